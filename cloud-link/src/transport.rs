//! zenoh session configuration for the uploader and the ingest.
//!
//! Embedded default: both are zenoh peers; the ingest listens on an endpoint
//! (`tcp/127.0.0.1:7447`), the truck connects to it; multicast scouting is off, so nothing is
//! discovered that was not named. A fleet points both at `zenohd` routers instead (`--connect`
//! on both sides). With [`TlsFiles`] the link is TLS, and mutual TLS when `mutual` is set: the
//! ingest then accepts only clients whose certificate chains to the root CA, and the ACL can
//! name trucks by their certificate's common name ([`truck_acl_json`]).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::error::CloudLinkError;

/// TLS files (PEM) for a zenoh link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signs the peers' certificates.
    pub root_ca_pem: PathBuf,
    /// This node's certificate (server certificate on the listening side, client certificate on
    /// the connecting side when `mutual`).
    pub cert_pem: PathBuf,
    /// This node's private key.
    pub key_pem: PathBuf,
    /// Mutual TLS: the listening side requires a client certificate signed by `root_ca_pem`.
    pub mutual: bool,
}

/// How a node joins zenoh.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkConfig {
    /// zenoh endpoints to listen on (`tcp/127.0.0.1:7447`, `tls/localhost:7447`).
    pub listen: Vec<String>,
    /// zenoh endpoints (peers or routers) to connect to.
    pub connect: Vec<String>,
    /// `client` mode (talks only through the router it connects to) instead of `peer`.
    pub client_mode: bool,
    /// TLS files when the endpoints are `tls/...`.
    pub tls: Option<TlsFiles>,
    /// Access-control block (zenoh's `access_control` JSON), for the ingest or a router.
    pub access_control: Option<Value>,
}

impl LinkConfig {
    /// The zenoh configuration as JSON.
    pub fn to_json(&self) -> Value {
        let mut config = json!({
            "mode": if self.client_mode { "client" } else { "peer" },
            "scouting": {"multicast": {"enabled": false}},
            "listen": {"endpoints": self.listen},
            "connect": {
                "endpoints": self.connect,
                "retry": {"period_init_ms": 100, "period_max_ms": 1000, "period_increase_factor": 2},
            },
        });
        if let Some(tls) = &self.tls {
            let listening = !self.listen.is_empty();
            let mut block = json!({
                "root_ca_certificate": tls.root_ca_pem,
                "enable_mtls": tls.mutual,
                "verify_name_on_connect": false,
            });
            if listening {
                block["listen_private_key"] = json!(tls.key_pem);
                block["listen_certificate"] = json!(tls.cert_pem);
            }
            if !self.connect.is_empty() {
                block["connect_private_key"] = json!(tls.key_pem);
                block["connect_certificate"] = json!(tls.cert_pem);
            }
            config["transport"] = json!({"link": {"tls": block}});
        }
        if let Some(acl) = &self.access_control {
            config["access_control"] = acl.clone();
        }
        config
    }

    /// The zenoh configuration.
    ///
    /// Errors: zenoh rejects it (an endpoint that does not parse, ...).
    pub fn to_zenoh(&self) -> Result<zenoh::Config, CloudLinkError> {
        let text = self.to_json().to_string();
        zenoh::Config::from_json5(&text).map_err(|e| CloudLinkError::Zenoh {
            action: "build config",
            endpoint: format!("{:?} {:?}", self.listen, self.connect),
            reason: e.to_string(),
        })
    }

    /// Opens a zenoh session with this configuration.
    ///
    /// Errors: the configuration is rejected or a listen endpoint cannot be bound.
    pub fn open(&self) -> Result<zenoh::Session, CloudLinkError> {
        use zenoh::Wait;
        let config = self.to_zenoh()?;
        zenoh::open(config).wait().map_err(|e| CloudLinkError::Zenoh {
            action: "open session",
            endpoint: format!("listen {:?} connect {:?}", self.listen, self.connect),
            reason: e.to_string(),
        })
    }
}

/// zenoh `access_control` for the ingest: each truck (identified by its TLS certificate's
/// common name, which must equal its truck id) may only query `pitsense/ingest/<truck_id>/**`;
/// everything else from it is denied.
pub fn truck_acl_json(truck_ids: &[&str]) -> Value {
    // The ingest's queryable (`pitsense/ingest/**`) must be declared to every truck.
    let mut rules = vec![json!({
        "id": "ingest-queryable",
        "messages": ["declare_queryable"],
        "flows": ["egress", "ingress"],
        "permission": "allow",
        "key_exprs": [format!("{}/**", crate::truck_to_cloud::INGEST_PREFIX)],
    })];
    let mut subjects = Vec::new();
    let mut policies = Vec::new();
    for truck_id in truck_ids {
        rules.push(json!({
            "id": format!("rule-{truck_id}"),
            "messages": ["query", "reply"],
            "flows": ["ingress", "egress"],
            "permission": "allow",
            "key_exprs": [format!("{}/{truck_id}/**", crate::truck_to_cloud::INGEST_PREFIX)],
        }));
        subjects.push(json!({"id": format!("subject-{truck_id}"), "cert_common_names": [truck_id]}));
        policies.push(json!({
            "id": format!("policy-{truck_id}"),
            "rules": [format!("rule-{truck_id}"), "ingest-queryable".to_owned()],
            "subjects": [format!("subject-{truck_id}")],
        }));
    }
    json!({
        "enabled": true,
        "default_permission": "deny",
        "rules": rules,
        "subjects": subjects,
        "policies": policies,
    })
}
