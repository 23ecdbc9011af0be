//! Loopback test of the UDP receiver: explicit ports on 127.0.0.1, every wait bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use common::*;
use pitsense_v2x::decode::DecodeConfig;
use pitsense_v2x::ieee1609dot2;
use pitsense_v2x::j2735::J2735Message;
use pitsense_v2x::receiver::*;
use tokio::net::UdpSocket;
use tokio::time::timeout;

/// Explicit loopback ports for these tests (the first free one is used).
const PORTS: [u16; 4] = [47_351, 47_352, 47_353, 47_354];

fn sample_frame(name: &str) -> Vec<u8> {
    let text =
        std::fs::read_to_string(j2735_path(&format!("jpo-ode_decoded_samples/decoder-output-{name}.xml")))
            .unwrap();
    let start = text.find("<asn1>").unwrap() + 6;
    let end = text.find("</asn1>").unwrap();
    hex_to_bytes(&text[start..end])
}

async fn bind_on_explicit_port(
    config: ReceiverConfig,
) -> (RsuReceiver, pitsense_types::channel::EdgeReceiver<ReceivedDatagram>) {
    for port in PORTS {
        let config = ReceiverConfig {
            bind_addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
            ..config.clone()
        };
        if let Ok(bound) = RsuReceiver::bind(config, || 42).await {
            return bound;
        }
    }
    panic!("none of the loopback ports {PORTS:?} is free");
}

async fn wait_for_received(receiver: &RsuReceiver, source: SocketAddr, count: u64) -> SourceStats {
    timeout(Duration::from_secs(5), async {
        loop {
            if let Some((_, stats)) = receiver.stats().into_iter().find(|(addr, _)| *addr == source)
                && stats.received >= count
            {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the receiver did not count the datagrams within 5 s")
}

#[tokio::test]
async fn loopback_datagrams_are_decoded_queued_and_counted_per_source() {
    let config = ReceiverConfig { queue_capacity: 16, max_datagram_bytes: 1024, ..ReceiverConfig::default() };
    let (receiver, queue) = bind_on_explicit_port(config).await;
    let rsu = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rsu_addr = rsu.local_addr().unwrap();
    let target = receiver.local_addr();

    let bsm = sample_frame("bsm");
    let sdsm = sample_frame("sdsm");
    rsu.send_to(&ieee1609dot2::wrap_unsecured(&bsm), target).await.unwrap(); // 1609.2-wrapped
    rsu.send_to(&sdsm, target).await.unwrap(); // raw UPER
    rsu.send_to(&[0x80, 0x01, 0x02], target).await.unwrap(); // no frame
    rsu.send_to(&[0x03, 0x82, 0x00], target).await.unwrap(); // encrypted 1609.2
    rsu.send_to(&vec![0u8; 2000], target).await.unwrap(); // over-long
    rsu.send_to(&sample_frame("srm"), target).await.unwrap(); // unsupported id 29

    let mut kinds = Vec::new();
    for _ in 0..3 {
        let datagram =
            timeout(Duration::from_secs(5), queue.recv_async()).await.expect("queue timeout").unwrap();
        assert_eq!(datagram.source, rsu_addr);
        assert_eq!(datagram.receive_stamp_ns, 42);
        kinds.push(match &datagram.report.frames[0].message {
            Ok(J2735Message::Bsm(_)) => "bsm",
            Ok(J2735Message::Sdsm(_)) => "sdsm",
            Ok(J2735Message::Unsupported { message_id: 29, .. }) => "srm",
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(kinds, ["bsm", "sdsm", "srm"]);

    let stats = wait_for_received(&receiver, rsu_addr, 6).await;
    assert_eq!(
        stats,
        SourceStats {
            received: 6,
            decoded: 3,
            rejected_too_long: 1,
            rejected_envelope: 1,
            rejected_malformed_frame: 1,
            frames: 3,
            messages_decoded: 2,
            messages_unsupported: 1,
            ..SourceStats::default()
        }
    );
}

#[tokio::test]
async fn a_full_queue_drops_the_newest_datagrams_and_counts_them() {
    let config = ReceiverConfig {
        queue_capacity: 2,
        decode: DecodeConfig { max_input_bytes: 1024, max_frames: 4 },
        ..ReceiverConfig::default()
    };
    let (receiver, queue) = bind_on_explicit_port(config).await;
    let rsu = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rsu_addr = rsu.local_addr().unwrap();
    let psm = sample_frame("psm");
    let sdsm = sample_frame("sdsm");
    // First two fill the queue; the next eight are dropped.
    rsu.send_to(&psm, receiver.local_addr()).await.unwrap();
    for _ in 0..9 {
        rsu.send_to(&sdsm, receiver.local_addr()).await.unwrap();
    }
    let stats = wait_for_received(&receiver, rsu_addr, 10).await;
    assert_eq!(stats.decoded, 10);
    assert_eq!(stats.dropped_queue_full, 8);
    // The oldest were kept.
    let first = timeout(Duration::from_secs(5), queue.recv_async()).await.unwrap().unwrap();
    assert!(matches!(first.report.frames[0].message, Ok(J2735Message::Psm(_))));
    let second = timeout(Duration::from_secs(5), queue.recv_async()).await.unwrap().unwrap();
    assert!(matches!(second.report.frames[0].message, Ok(J2735Message::Sdsm(_))));
    assert!(queue.try_recv().is_none());
}
