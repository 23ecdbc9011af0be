//! Live UDP reception over loopback (127.0.0.1 only, bounded in time): the Ouster capture's
//! lidar packets are sent to a [`LiveReceiver`] with one packet dropped, one duplicated, one
//! malformed datagram and a second (renumbered) frame; the rotations and counters must come
//! out as the synchronous batcher gives them. A Velodyne receiver gets the VLP-16 packet twice.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use pitsense_perception::drivers::live::{DropPolicy, LiveConfig, LiveError, LiveReceiver};
use pitsense_perception::drivers::ouster::{OusterMetadata, OusterScanBatcher};
use pitsense_perception::drivers::pcap::read_udp_datagrams;
use pitsense_perception::drivers::velodyne::{
    VelodyneDecoder, VelodyneDecoderConfig, VelodyneModel, VelodyneRotationAssembler,
};
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout};

/// Receiver ports for these tests (explicit; an ephemeral port is used only if one is taken).
const OUSTER_TEST_PORT: u16 = 47_502;
const VELODYNE_TEST_PORT: u16 = 42_368;
const TEST_BUDGET: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn start<A>(port: u16, capacity: usize, policy: DropPolicy, assembler: A) -> LiveReceiver<A::Rotation>
where
    A: pitsense_perception::drivers::RotationAssembler + Clone + Send + 'static,
    A::Rotation: Send + 'static,
{
    let config = |port| LiveConfig {
        bind_addr: SocketAddr::from(([127, 0, 0, 1], port)),
        queue_capacity: capacity,
        drop_policy: policy,
    };
    match LiveReceiver::start(&config(port), assembler.clone()).await {
        Ok(receiver) => receiver,
        Err(LiveError::Bind { .. }) => LiveReceiver::start(&config(0), assembler).await.unwrap(),
        Err(error) => panic!("{error}"),
    }
}

/// Sends datagrams one by one, pausing so the receive task drains the socket between them.
async fn send_all(target: SocketAddr, datagrams: &[Vec<u8>]) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for datagram in datagrams {
        socket.send_to(datagram, target).await.unwrap();
        sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn ouster_loopback_with_counters() {
    let metadata = OusterMetadata::read(&common::data_file(
        "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json",
    ))
    .unwrap();
    let (datagrams, _) = read_udp_datagrams(
        &common::data_file("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap"),
        Some(&[7502]),
    )
    .unwrap();
    let packets: Vec<Vec<u8>> = datagrams.into_iter().map(|datagram| datagram.payload).collect();

    // Frame 1259 without packet 20 and with packet 7 twice, a 64-byte junk datagram, then the
    // same packets renumbered as frame 1260.
    let mut stream = Vec::new();
    for (index, packet) in packets.iter().enumerate() {
        if index != 20 {
            stream.push(packet.clone());
        }
        if index == 7 {
            stream.push(packet.clone());
        }
    }
    stream.push(vec![0xab; 64]);
    for packet in &packets {
        let mut renumbered = packet.clone();
        renumbered[2..4].copy_from_slice(&1260_u16.to_le_bytes());
        stream.push(renumbered);
    }

    runtime().block_on(async {
        timeout(TEST_BUDGET, async {
            let receiver =
                start(OUSTER_TEST_PORT, 4, DropPolicy::DropOldest, OusterScanBatcher::new(&metadata)).await;
            send_all(receiver.local_addr(), &stream).await;
            // Frame 1260 completes with its last packet; frame 1259 was closed by 1260's first.
            let first = receiver.recv().await.unwrap();
            let second = receiver.recv().await.unwrap();
            assert_eq!((first.frame_id, first.is_complete()), (1259, false));
            assert_eq!((second.frame_id, second.is_complete()), (1260, true));
            let (remaining, counters) = receiver.stop().await;
            assert!(remaining.is_empty());
            assert_eq!(counters.datagrams, stream.len() as u64);
            assert_eq!(counters.socket_errors, 0);
            assert_eq!(counters.dropped_rotations, 0);
            let assembler = counters.assembler;
            assert_eq!((assembler.packets, assembler.duplicate, assembler.malformed), (63 + 64, 1, 1));
            assert_eq!((assembler.rotations, assembler.incomplete_rotations), (2, 1));
        })
        .await
        .expect("loopback test exceeded its time budget");
    });
}

#[test]
fn full_queue_drops_per_policy() {
    let metadata = OusterMetadata::read(&common::data_file(
        "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json",
    ))
    .unwrap();
    let (datagrams, _) = read_udp_datagrams(
        &common::data_file("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap"),
        Some(&[7502]),
    )
    .unwrap();
    // Three complete frames (1259, 1260, 1261) into a queue of one that nobody reads.
    let mut stream = Vec::new();
    for frame_id in 1259_u16..1262 {
        for datagram in &datagrams {
            let mut packet = datagram.payload.clone();
            packet[2..4].copy_from_slice(&frame_id.to_le_bytes());
            stream.push(packet);
        }
    }
    for (policy, kept) in [(DropPolicy::DropOldest, 1261), (DropPolicy::DropNewest, 1259)] {
        runtime().block_on(async {
            timeout(TEST_BUDGET, async {
                let receiver = start(OUSTER_TEST_PORT, 1, policy, OusterScanBatcher::new(&metadata)).await;
                send_all(receiver.local_addr(), &stream).await;
                // Wait (bounded) until all three frames went through the assembler.
                while receiver.counters().assembler.rotations < 3 {
                    sleep(Duration::from_millis(5)).await;
                }
                let (remaining, counters) = receiver.stop().await;
                assert_eq!(
                    remaining.iter().map(|scan| scan.frame_id).collect::<Vec<_>>(),
                    [kept],
                    "{policy:?}"
                );
                assert_eq!(counters.dropped_rotations, 2, "{policy:?}");
            })
            .await
            .expect("loopback test exceeded its time budget");
        });
    }
}

#[test]
fn velodyne_loopback_duplicate_and_flush() {
    let (datagrams, _) =
        read_udp_datagrams(&common::data_file("lidar_pcap/ouster_sdk_tests/VLI-16-one-packet.pcap"), None)
            .unwrap();
    let payload = datagrams[0].payload.clone();
    let decoder = VelodyneDecoder::new(VelodyneDecoderConfig::new(VelodyneModel::Vlp16)).unwrap();
    runtime().block_on(async {
        timeout(TEST_BUDGET, async {
            let receiver = start(
                VELODYNE_TEST_PORT,
                2,
                DropPolicy::DropOldest,
                VelodyneRotationAssembler::new(decoder, 0.0),
            )
            .await;
            send_all(receiver.local_addr(), &[payload.clone(), payload.clone(), vec![1, 2, 3]]).await;
            while receiver.counters().datagrams < 3 {
                sleep(Duration::from_millis(5)).await;
            }
            // No cut was crossed: stopping flushes the partial rotation.
            let (remaining, counters) = receiver.stop().await;
            assert_eq!(remaining.len(), 1);
            assert!(!remaining[0].complete);
            assert_eq!(remaining[0].packets, 1);
            let assembler = counters.assembler;
            assert_eq!((assembler.packets, assembler.duplicate, assembler.malformed), (1, 1, 1));
        })
        .await
        .expect("loopback test exceeded its time budget");
    });
}
