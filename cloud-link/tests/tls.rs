//! TLS and mutual TLS on the zenoh link, with certificates generated here by `rcgen`: a truck
//! with a certificate from the fleet CA delivers; one whose certificate comes from another CA
//! cannot; and with access control a truck can only send under its own key expressions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitsense_cloud_link::ingest::{Catalog, Ingest};
use pitsense_cloud_link::queue::{EpisodeQueue, Priority};
use pitsense_cloud_link::transport::{LinkConfig, TlsFiles, truck_acl_json};
use pitsense_cloud_link::uploader::{RunMode, Uploader, UploaderConfig, UploaderHandle};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

struct Pki {
    ca_pem: PathBuf,
    ingest: (PathBuf, PathBuf),
    truck_07: (PathBuf, PathBuf),
    rogue_truck_07: (PathBuf, PathBuf),
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn leaf(dir: &Path, name: &str, common_name: &str, issuer: &Issuer<'_, KeyPair>) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params.distinguished_name.push(DnType::CommonName, common_name);
    let cert = params.signed_by(&key, issuer).unwrap();
    let (cert_path, key_path) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn pki(dir: &Path) -> Pki {
    let (ca_params, ca_key, ca_pem) = ca("pitsense fleet CA");
    let ca_path = dir.join("ca.crt");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let (rogue_params, rogue_key, _) = ca("rogue CA");
    let rogue = Issuer::new(rogue_params, rogue_key);
    Pki {
        ca_pem: ca_path,
        ingest: leaf(dir, "ingest", "pitsense-ingest", &issuer),
        truck_07: leaf(dir, "truck-07", "truck-07", &issuer),
        rogue_truck_07: leaf(dir, "rogue", "truck-07", &rogue),
    }
}

fn tls(ca: &Path, (cert, key): &(PathBuf, PathBuf)) -> Option<TlsFiles> {
    Some(TlsFiles { root_ca_pem: ca.to_owned(), cert_pem: cert.clone(), key_pem: key.clone(), mutual: true })
}

/// Uploads `file` as `truck_id` with `tls` for at most `limit`; returns whether it was stored.
fn try_upload(
    work: &Path,
    name: &str,
    file: &Path,
    truck_id: &str,
    port: u16,
    tls: Option<TlsFiles>,
    limit: Duration,
) -> bool {
    let queue_dir = work.join(format!("queue-{name}"));
    let mut queue = EpisodeQueue::open(&queue_dir, 1 << 30).unwrap();
    queue.enqueue_copy(file, Priority::High).unwrap();
    let link = LinkConfig { connect: vec![format!("tls/127.0.0.1:{port}")], tls, ..Default::default() };
    let config = UploaderConfig {
        request_timeout_ms: 500,
        backoff_max_ms: 300,
        ..UploaderConfig::new(truck_id, link)
    };
    let uploader = Uploader::new(config, Arc::new(Mutex::new(queue))).unwrap();
    let handle = UploaderHandle::spawn(uploader, RunMode::UntilEmpty).unwrap();
    let deadline = Instant::now() + limit;
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let uploaded = handle.stats().episodes_uploaded.load(Ordering::Relaxed) == 1;
    handle.stop().unwrap();
    uploaded
}

fn catalogued(store: &Path) -> Vec<String> {
    Catalog::open(&store.join("catalog.sqlite"))
        .unwrap()
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.sha256)
        .collect()
}

fn sha256_of(path: &Path) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn mutual_tls_admits_the_fleet_ca_and_refuses_another() {
    const PORT: u16 = 27_487;
    let work = tempfile::tempdir().unwrap();
    let pki = pki(work.path());
    let store = work.path().join("store");
    let link = LinkConfig {
        listen: vec![format!("tls/127.0.0.1:{PORT}")],
        tls: tls(&pki.ca_pem, &pki.ingest),
        ..Default::default()
    };
    let _ingest = Ingest::start(&store, &link).unwrap();
    let good = common::write_test_episode(work.path(), "good.mcap", 1, 3, 2000);
    let rogue = common::write_test_episode(work.path(), "rogue.mcap", 2, 3, 2000);

    // Without access control, truck-07's fleet certificate may send under any truck id (here
    // truck-08); the access-control test shows the ACL is what stops that.
    assert!(try_upload(
        work.path(),
        "good",
        &good,
        "truck-08",
        PORT,
        tls(&pki.ca_pem, &pki.truck_07),
        Duration::from_secs(30)
    ));
    // Same common name, but signed by another CA: the TLS handshake fails, nothing arrives.
    assert!(!try_upload(
        work.path(),
        "rogue",
        &rogue,
        "truck-07",
        PORT,
        tls(&pki.ca_pem, &pki.rogue_truck_07),
        Duration::from_secs(3)
    ));
    // Plain TCP to a TLS endpoint gets nowhere either.
    let plain_link = LinkConfig { connect: vec![format!("tcp/127.0.0.1:{PORT}")], ..Default::default() };
    let queue_dir = work.path().join("queue-plain");
    let mut queue = EpisodeQueue::open(&queue_dir, 1 << 30).unwrap();
    queue.enqueue_copy(&rogue, Priority::High).unwrap();
    let config = UploaderConfig { request_timeout_ms: 500, ..UploaderConfig::new("truck-07", plain_link) };
    let handle = UploaderHandle::spawn(
        Uploader::new(config, Arc::new(Mutex::new(queue))).unwrap(),
        RunMode::UntilEmpty,
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(handle.stats().episodes_uploaded.load(Ordering::Relaxed), 0);
    handle.stop().unwrap();

    assert_eq!(catalogued(&store), vec![sha256_of(&good)]);
}

#[test]
fn access_control_keeps_a_truck_to_its_own_key_expressions() {
    const PORT: u16 = 27_497;
    let work = tempfile::tempdir().unwrap();
    let pki = pki(work.path());
    let store = work.path().join("store");
    let link = LinkConfig {
        listen: vec![format!("tls/127.0.0.1:{PORT}")],
        tls: tls(&pki.ca_pem, &pki.ingest),
        access_control: Some(truck_acl_json(&["truck-07"])),
        ..Default::default()
    };
    let _ingest = Ingest::start(&store, &link).unwrap();
    let own = common::write_test_episode(work.path(), "own.mcap", 3, 3, 2000);
    let other = common::write_test_episode(work.path(), "other.mcap", 4, 3, 2000);
    // truck-07's certificate, sending as truck-08: denied by the ACL.
    assert!(!try_upload(
        work.path(),
        "as-08",
        &other,
        "truck-08",
        PORT,
        tls(&pki.ca_pem, &pki.truck_07),
        Duration::from_secs(3)
    ));
    // Under its own key: delivered.
    assert!(try_upload(
        work.path(),
        "as-07",
        &own,
        "truck-07",
        PORT,
        tls(&pki.ca_pem, &pki.truck_07),
        Duration::from_secs(30)
    ));
    assert_eq!(catalogued(&store), vec![sha256_of(&own)]);
}
