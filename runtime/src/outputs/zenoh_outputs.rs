//! The zenoh publisher of the runtime's outputs: objects (CDR), health and latency (JSON).
//!
//! The session is configured by `pitsense-cloud-link`'s [`LinkConfig`] (the same zenoh 1.10
//! build, tcp and tls transports only): peer or client mode, the listen and connect endpoints
//! named in the config, multicast scouting off (nothing is discovered that was not named), TLS
//! (mutual when asked) for `tls/...` endpoints.
//!
//! Publishers are declared once at open with congestion control `Drop` and `express` (no
//! batching): a slow or absent subscriber loses samples instead of stalling the frame loop, and
//! each sample leaves as soon as it is put. Encoding buffers are reused, so a steady-state
//! publish allocates only inside zenoh.

use std::path::PathBuf;

use pitsense_cloud_link::transport::{LinkConfig, TlsFiles};
use pitsense_cloud_link::truck_to_cloud::is_valid_key_chunk;
use pitsense_types::{ConfigError, HealthReport, Track};
use serde::{Deserialize, Serialize};
use zenoh::Wait;
use zenoh::bytes::Encoding;
use zenoh::pubsub::Publisher;
use zenoh::qos::CongestionControl;

use super::{LatencyReport, OutputError, encode_tracked_objects};

/// Dotted path of this configuration's section, used in [`ConfigError`] keys.
pub const ZENOH_OUTPUTS_SECTION: &str = "run.outputs.zenoh";

/// `pitsense/truck/<truck_id>/objects`: the tracked objects, CDR.
pub fn objects_key(truck_id: &str) -> String {
    format!("pitsense/truck/{truck_id}/objects")
}

/// `pitsense/truck/<truck_id>/health`: the health report, JSON.
pub fn health_key(truck_id: &str) -> String {
    format!("pitsense/truck/{truck_id}/health")
}

/// `pitsense/truck/<truck_id>/latency`: the latency report, JSON.
pub fn latency_key(truck_id: &str) -> String {
    format!("pitsense/truck/{truck_id}/latency")
}

/// How the truck joins zenoh.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZenohMode {
    /// A peer: listens and connects directly to the named peers.
    #[default]
    Peer,
    /// A client of the zenoh router(s) in `connect`; opening fails if none answers.
    Client,
}

/// TLS files (PEM) for `tls/...` endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenohTlsConfig {
    /// The CA that signs the peers' certificates.
    pub root_ca_pem: PathBuf,
    /// This truck's certificate (server certificate when listening, client certificate when
    /// connecting with mutual TLS).
    pub cert_pem: PathBuf,
    /// This truck's private key.
    pub key_pem: PathBuf,
    /// Mutual TLS: a listening truck requires client certificates signed by `root_ca_pem`.
    #[serde(default)]
    pub mutual: bool,
}

/// The zenoh outputs' configuration (`[run.outputs.zenoh]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZenohOutputsConfig {
    /// This truck's id, one key-expression chunk (ASCII letters, digits, `-`, `_`, `.`; 1 to 64
    /// characters); with mutual TLS, the certificate's common name.
    pub truck_id: String,
    /// `peer` or `client`.
    pub mode: ZenohMode,
    /// Endpoints to listen on (`tcp/127.0.0.1:7447`, `tls/0.0.0.0:7447`).
    pub listen: Vec<String>,
    /// Peers or routers to connect to.
    pub connect: Vec<String>,
    /// TLS files; required when an endpoint is `tls/...`.
    pub tls: Option<ZenohTlsConfig>,
    /// `header.frame_id` of the objects message: the ROS name of the frame the tracks are in
    /// (`base_link` for the truck frame, `map` for the site frame).
    pub frame_id: String,
}

impl Default for ZenohOutputsConfig {
    fn default() -> Self {
        Self {
            truck_id: "truck-01".into(),
            mode: ZenohMode::Peer,
            listen: vec!["tcp/127.0.0.1:7447".into()],
            connect: Vec::new(),
            tls: None,
            frame_id: "base_link".into(),
        }
    }
}

impl ZenohOutputsConfig {
    /// Checks the configuration before a session is opened.
    ///
    /// Errors: a [`ConfigError`] keyed `run.outputs.zenoh.<key>`: a truck id that is not one
    /// key-expression chunk; an endpoint that is not `tcp/` or `tls/` (the only transports
    /// built); `tls/` endpoints without `tls`; client mode without `connect`; a peer with neither
    /// `listen` nor `connect` (with scouting off it could reach no one); an empty `frame_id` or
    /// one with a leading `/` (ROS 2 frame names have none) or whitespace.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{ZENOH_OUTPUTS_SECTION}.{name}");
        if !is_valid_key_chunk(&self.truck_id) {
            return Err(ConfigError::new(
                key("truck_id"),
                format!("`{}` must be 1 to 64 ASCII letters, digits, `-`, `_` or `.`", self.truck_id),
            ));
        }
        for (name, endpoints) in [("listen", &self.listen), ("connect", &self.connect)] {
            for endpoint in endpoints {
                let address = endpoint.strip_prefix("tcp/").or_else(|| endpoint.strip_prefix("tls/"));
                if address.is_none_or(str::is_empty) {
                    return Err(ConfigError::new(
                        key(name),
                        format!("`{endpoint}` must be `tcp/<host>:<port>` or `tls/<host>:<port>`"),
                    ));
                }
                if endpoint.starts_with("tls/") && self.tls.is_none() {
                    return Err(ConfigError::new(
                        key("tls"),
                        format!("`{endpoint}` is a TLS endpoint: give root_ca_pem, cert_pem, key_pem"),
                    ));
                }
            }
        }
        if self.mode == ZenohMode::Client && self.connect.is_empty() {
            return Err(ConfigError::new(key("connect"), "client mode needs at least one router endpoint"));
        }
        if self.listen.is_empty() && self.connect.is_empty() {
            return Err(ConfigError::new(
                key("listen"),
                "a peer needs a listen or a connect endpoint (multicast scouting is off)",
            ));
        }
        if self.frame_id.is_empty()
            || self.frame_id.starts_with('/')
            || self.frame_id.chars().any(char::is_whitespace)
        {
            return Err(ConfigError::new(
                key("frame_id"),
                format!(
                    "`{}` must be a ROS frame name (non-empty, no leading `/`, no spaces)",
                    self.frame_id
                ),
            ));
        }
        Ok(())
    }

    /// The cloud-link transport configuration for this output.
    pub fn link_config(&self) -> LinkConfig {
        LinkConfig {
            listen: self.listen.clone(),
            connect: self.connect.clone(),
            client_mode: self.mode == ZenohMode::Client,
            tls: self.tls.as_ref().map(|tls| TlsFiles {
                root_ca_pem: tls.root_ca_pem.clone(),
                cert_pem: tls.cert_pem.clone(),
                key_pem: tls.key_pem.clone(),
                mutual: tls.mutual,
            }),
            access_control: None,
        }
    }
}

/// The open zenoh session and its three publishers.
#[derive(Debug)]
pub struct ZenohOutputs {
    session: zenoh::Session,
    objects: Publisher<'static>,
    health: Publisher<'static>,
    latency: Publisher<'static>,
    truck_id: String,
    frame_id: String,
    /// Reused encoding buffer.
    buffer: Vec<u8>,
}

impl ZenohOutputs {
    /// Validates `config`, opens the zenoh session and declares the publishers on
    /// `pitsense/truck/<truck_id>/{objects,health,latency}`.
    ///
    /// Errors: [`OutputError::Config`] (invalid configuration), [`OutputError::Open`] (zenoh
    /// refuses the configuration, a listen endpoint cannot be bound, no router answers in client
    /// mode), [`OutputError::Zenoh`] (a publisher cannot be declared).
    pub fn open(config: &ZenohOutputsConfig) -> Result<Self, OutputError> {
        config.validate()?;
        let session = config.link_config().open().map_err(|source| OutputError::Open {
            listen: config.listen.clone(),
            connect: config.connect.clone(),
            source: Box::new(source),
        })?;
        let declare = |key: String, encoding: Encoding| {
            session
                .declare_publisher(key.clone())
                .encoding(encoding)
                .congestion_control(CongestionControl::Drop)
                .express(true)
                .wait()
                .map_err(|e| OutputError::Zenoh { action: "declare publisher", key, reason: e.to_string() })
        };
        let objects = declare(objects_key(&config.truck_id), Encoding::APPLICATION_CDR)?;
        let health = declare(health_key(&config.truck_id), Encoding::APPLICATION_JSON)?;
        let latency = declare(latency_key(&config.truck_id), Encoding::APPLICATION_JSON)?;
        Ok(Self {
            session,
            objects,
            health,
            latency,
            truck_id: config.truck_id.clone(),
            frame_id: config.frame_id.clone(),
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Publishes `tracks` as one `TrackedObjects` stamped `stamp_ns` (the frame's time of
    /// validity), in the configured `frame_id`.
    ///
    /// Errors: [`OutputError::StampOutOfRange`], [`OutputError::TooLong`] (encoding),
    /// [`OutputError::Zenoh`] (the put failed). Nothing is retried; the caller counts failures.
    pub fn publish_objects(&mut self, stamp_ns: u64, tracks: &[Track]) -> Result<(), OutputError> {
        encode_tracked_objects(&mut self.buffer, stamp_ns, &self.frame_id, &self.truck_id, tracks)?;
        put(&self.objects, &self.buffer)
    }

    /// Publishes a health report as JSON (the serde form of [`HealthReport`]).
    ///
    /// Errors: [`OutputError::Json`], [`OutputError::Zenoh`].
    pub fn publish_health(&mut self, report: &HealthReport) -> Result<(), OutputError> {
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, report)
            .map_err(|e| OutputError::Json { what: "health report", reason: e.to_string() })?;
        put(&self.health, &self.buffer)
    }

    /// Publishes a latency report as JSON.
    ///
    /// Errors: [`OutputError::Json`], [`OutputError::Zenoh`].
    pub fn publish_latency(&mut self, report: &LatencyReport) -> Result<(), OutputError> {
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, report)
            .map_err(|e| OutputError::Json { what: "latency report", reason: e.to_string() })?;
        put(&self.latency, &self.buffer)
    }

    /// The truck id in the keys.
    pub fn truck_id(&self) -> &str {
        &self.truck_id
    }

    /// Undeclares the publishers and closes the session.
    ///
    /// Errors: [`OutputError::Zenoh`] when zenoh reports a failure while closing.
    pub fn close(self) -> Result<(), OutputError> {
        for publisher in [self.objects, self.health, self.latency] {
            let key = publisher.key_expr().to_string();
            publisher.undeclare().wait().map_err(|e| OutputError::Zenoh {
                action: "undeclare publisher",
                key,
                reason: e.to_string(),
            })?;
        }
        self.session.close().wait().map_err(|e| OutputError::Zenoh {
            action: "close session",
            key: format!("pitsense/truck/{}/**", self.truck_id),
            reason: e.to_string(),
        })
    }
}

/// Sends one sample (zenoh copies the bytes).
fn put(publisher: &Publisher<'static>, payload: &[u8]) -> Result<(), OutputError> {
    publisher.put(payload).wait().map_err(|e| OutputError::Zenoh {
        action: "put",
        key: publisher.key_expr().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ZenohOutputsConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn a_full_section_parses_and_validates() {
        let config = parse(
            r#"
            truck_id = "truck-07"
            mode = "client"
            connect = ["tls/router.pit:7447"]
            listen = []
            frame_id = "map"
            [tls]
            root_ca_pem = "ca.pem"
            cert_pem = "truck.pem"
            key_pem = "truck.key"
            mutual = true
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        let link = config.link_config();
        assert!(link.client_mode);
        assert_eq!(link.tls.map(|tls| tls.mutual), Some(true));
        assert_eq!(ZenohOutputsConfig::default().validate(), Ok(()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("truck_id = \"t\"\nlisten_endpoints = []").is_err());
        assert!(parse("mode = \"router\"").is_err());
    }

    #[test]
    fn invalid_values_name_their_key() {
        let base = ZenohOutputsConfig::default();
        let cases = [
            (ZenohOutputsConfig { truck_id: "truck/1".into(), ..base.clone() }, "truck_id"),
            (ZenohOutputsConfig { listen: vec!["udp/127.0.0.1:1".into()], ..base.clone() }, "listen"),
            (ZenohOutputsConfig { connect: vec!["tcp/".into()], ..base.clone() }, "connect"),
            (ZenohOutputsConfig { listen: vec!["tls/127.0.0.1:1".into()], ..base.clone() }, "tls"),
            (ZenohOutputsConfig { mode: ZenohMode::Client, ..base.clone() }, "connect"),
            (ZenohOutputsConfig { listen: vec![], ..base.clone() }, "listen"),
            (ZenohOutputsConfig { frame_id: "/map".into(), ..base.clone() }, "frame_id"),
            (ZenohOutputsConfig { frame_id: String::new(), ..base.clone() }, "frame_id"),
        ];
        for (config, key) in cases {
            let error = config.validate().unwrap_err();
            assert_eq!(error.key, format!("run.outputs.zenoh.{key}"), "{config:?}");
        }
    }

    #[test]
    fn keys_follow_the_truck_id() {
        assert_eq!(objects_key("truck-01"), "pitsense/truck/truck-01/objects");
        assert_eq!(health_key("truck-01"), "pitsense/truck/truck-01/health");
        assert_eq!(latency_key("truck-01"), "pitsense/truck/truck-01/latency");
    }
}
