//! Helpers shared by the crates' tests and benches: a dev-dependency only (never in a shipped
//! binary; `runtime/tests/architecture.rs` checks the truck build).
//!
//! The shared data (`../shared/data` beside the repository, or `$PITSENSE_DATA`) is read in
//! place: several of its licences are non-commercial, so nothing of it is copied here.

use std::path::{Path, PathBuf};

pub mod postgres;

/// The data root: `$PITSENSE_DATA` when set and not empty, else `shared/data` beside the
/// repository (`<repository>/../shared/data`, as the README's commands expect).
pub fn data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .filter(|value| !value.is_empty())
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"), PathBuf::from)
}

/// The data root when it holds `relative` (a file or folder); otherwise `None`, after saying on
/// stderr what is missing and how to point at the data, for tests that skip without it.
pub fn data_root_holding(relative: &str) -> Option<PathBuf> {
    let root = data_root();
    if root.join(relative).exists() {
        Some(root)
    } else {
        eprintln!("skipped: no {} under the data root {} (set PITSENSE_DATA)", relative, root.display());
        None
    }
}

/// The Python interpreter holding the PyPI reference packages (`mcap`, `cantools`, ...):
/// `$PITSENSE_PYTHON`, the venv `./x setup` makes. Panics with how to get it when unset: tests
/// compare against these references and must not pass without them.
pub fn reference_python() -> PathBuf {
    let Some(python) = std::env::var_os("PITSENSE_PYTHON").filter(|value| !value.is_empty()) else {
        panic!(
            "PITSENSE_PYTHON is not set: run the tests with `./x test`, which installs the PyPI reference packages"
        );
    };
    PathBuf::from(python)
}

/// Python source for [`reference_python`] defining `episode_messages(path, topics=None)`: the
/// messages of an episode MCAP in log time order as `(topic, log_time_ns, schema_name, body)`,
/// `body` a dict. Protobuf channels are decoded by the `mcap-protobuf-support` PyPI package from
/// the descriptor set in the file (an independent decoder of what pitsense writes): every field
/// by its proto name, unset scalars as their default, unset `optional` fields and sub-messages
/// as `None`, 64-bit integers as ints, bytes as base64 text (the JSON convention older episodes
/// used). JSON channels (episodes recorded before protobuf) are parsed with `json`. Put it at
/// the top of a script.
pub const PYTHON_EPISODE_MESSAGES: &str = r#"
import base64 as _base64, json as _json
from mcap.reader import make_reader as _make_reader
from mcap.decoder import DecoderFactory as _Factory
from mcap_protobuf.decoder import DecoderFactory as _DecoderFactory

class _JsonFactory(_Factory):
    def decoder_for(self, message_encoding, schema):
        return (lambda data: _json.loads(data)) if message_encoding == "json" else None

def _field_value(message, field):
    value = getattr(message, field.name)
    repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED
    if repeated:
        return [_as_dict(v) if field.message_type else _scalar(v) for v in value]
    if field.has_presence and not message.HasField(field.name):
        return None
    return _as_dict(value) if field.message_type else _scalar(value)

def _scalar(value):
    return _base64.b64encode(value).decode() if isinstance(value, bytes) else value

def _as_dict(message):
    return {field.name: _field_value(message, field) for field in message.DESCRIPTOR.fields}

def episode_messages(path, topics=None):
    with open(path, "rb") as f:
        reader = _make_reader(f, decoder_factories=[_DecoderFactory(), _JsonFactory()])
        for schema, channel, message, decoded in reader.iter_decoded_messages(topics=topics, log_time_order=True):
            body = decoded if channel.message_encoding == "json" else _as_dict(decoded)
            yield channel.topic, message.log_time, schema.name if schema else "", body
"#;
