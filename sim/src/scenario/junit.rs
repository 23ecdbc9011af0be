//! The JUnit XML report of a `pitsense-sim run`, as CI servers read it (the Ant JUnit schema:
//! `testsuites` / `testsuite` / `testcase` with `failure` or `error`).
//!
//! One test suite per scenario, one test case per gate: a missed gate is a `failure` carrying
//! the measured value; a scenario that could not load or crashed is one test case with an
//! `error` carrying the message.

use super::run::ScenarioReport;

/// The outcome of one scenario for the report.
#[derive(Clone, Debug)]
pub enum ScenarioOutcome {
    /// It ran: its report.
    Ran(Box<ScenarioReport>),
    /// It could not run: the scenario's name and the error.
    Crashed {
        /// Name or path asked for.
        scenario: String,
        /// The error message.
        message: String,
    },
}

/// Escapes text for XML attribute values and content (the five predefined entities; control
/// characters other than tab, CR and LF, which XML 1.0 forbids, become spaces).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn value_text(value: Option<f64>) -> String {
    super::score::value_text(value, 4)
}

/// The JUnit XML document for `outcomes`.
pub fn junit_xml(outcomes: &[ScenarioOutcome]) -> String {
    let mut tests = 0;
    let mut failures = 0;
    let mut errors = 0;
    let mut suites = String::new();
    for outcome in outcomes {
        match outcome {
            ScenarioOutcome::Ran(report) => {
                let failed = report.gates.iter().filter(|g| !g.passed).count();
                tests += report.gates.len();
                failures += failed;
                suites.push_str(&format!(
                    "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
                    escape(&report.scenario),
                    report.gates.len()
                ));
                suites.push_str(&format!(
                    "    <properties><property name=\"seed\" value=\"{}\"/><property name=\"frames\" value=\"{}\"/></properties>\n",
                    report.seed, report.frames
                ));
                for gate in &report.gates {
                    let name = escape(&gate.gate);
                    let classname = escape(&report.scenario);
                    if gate.passed {
                        suites.push_str(&format!(
                            "    <testcase classname=\"{classname}\" name=\"{name}\"><system-out>value {}</system-out></testcase>\n",
                            value_text(gate.value)
                        ));
                    } else {
                        suites.push_str(&format!(
                            "    <testcase classname=\"{classname}\" name=\"{name}\"><failure message=\"gate missed: {name}, measured {}\" type=\"gate\"/></testcase>\n",
                            escape(&value_text(gate.value))
                        ));
                    }
                }
                suites.push_str("  </testsuite>\n");
            }
            ScenarioOutcome::Crashed { scenario, message } => {
                tests += 1;
                errors += 1;
                let name = escape(scenario);
                suites.push_str(&format!(
                    "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase classname=\"{name}\" name=\"run\"><error message=\"{}\" type=\"error\"/></testcase>\n  </testsuite>\n",
                    escape(message)
                ));
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pitsense-sim\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_counts_errors() {
        let xml = junit_xml(&[ScenarioOutcome::Crashed {
            scenario: "a<b".into(),
            message: "line 3: `x` \"bad\" & worse".into(),
        }]);
        assert!(xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""));
        assert!(xml.contains("name=\"a&lt;b\""));
        assert!(xml.contains("message=\"line 3: `x` &quot;bad&quot; &amp; worse\""));
    }
}
