#!/usr/bin/env python3
"""Writes the seed inputs of the runtime's fuzz targets into seeds/TARGET/ (standard library
only; run from anywhere). Seeds are small on purpose: a fuzzer mutates short inputs fastest.

- nmea: GGA, RMC, HDT and THS sentences as a dual-antenna GNSS receiver sends them, one with an
  NMEA 4.10 TAG block, checksums computed here (XOR of the body, NMEA 0183 4.11 section 5.3).
- can_frames: `candump -l` lines in every form the reader takes (standard, extended, FD, remote,
  error, raw DLC), and one cannelloni datagram (version 2, DATA, 3 frames).
- dbc: a small DBC (Motorola and Intel signals, a multiplexed message, a value table) followed by
  payloads, and payloads for the truck's own DBC (`config/truck.dbc`).
- config: none here: `./x fuzz` reads the shipped `config/` folder (pitsense.toml, examples) as
  the config target's seeds.
"""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
SEEDS = HERE / "seeds"


def nmea(body: str) -> str:
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f"${body}*{checksum:02X}\r\n"


def main() -> None:
    sentences = [
        nmea("GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,"),
        nmea("GNRMC,092750.000,A,5321.6802,N,00630.3372,W,0.02,31.66,280511,,,A"),
        nmea("GNGGA,120000.00,2330.0000,S,04630.0000,W,4,12,0.8,760.2,M,-5.1,M,1.0,0001"),
        nmea("GNHDT,274.07,T"),
        nmea("GNTHS,77.52,A"),
    ]
    (SEEDS / "nmea" / "dual_antenna").write_text("".join(sentences))
    tag_body = "c:1764806400,s:gnss0"
    tag_sum = 0
    for byte in tag_body.encode():
        tag_sum ^= byte
    (SEEDS / "nmea" / "tag_block").write_text(f"\\{tag_body}*{tag_sum:02X}\\" + sentences[1])

    candump = "\n".join([
        "(1764806400.000100) can0 1A0#0102030405060708",
        "(1764806400.000200) can0 18FEF100#00FF1234",
        "(1764806400.000300) vcan1 123##1112233445566778899AABBCC",
        "(1764806400.000400) can0 7FF#R",
        "(1764806400.000500) can0 20000080#0000000000000000",
        "(1764806400.000600) can0 1A0#0102030405060708_C",
        "(1764806400.000700) can0 001#",
    ]) + "\n"
    (SEEDS / "can_frames" / "candump").write_bytes(b"\x00" + candump.encode())
    frames = [(0x1A0, bytes(range(8)), False), (0x18FEF100 | 0x80000000, b"\x00\xff\x12\x34", False),
              (0x123, bytes(range(12)), True)]
    datagram = struct.pack(">BBBH", 2, 0, 7, len(frames))
    for can_id, data, fd in frames:
        datagram += struct.pack(">IB", can_id, len(data) | (0x80 if fd else 0))
        if fd:
            datagram += b"\x00"
        datagram += data
    (SEEDS / "can_frames" / "cannelloni").write_bytes(b"\x01" + datagram)

    dbc = """VERSION ""

BU_: ECU PITSENSE

BO_ 256 ENGINE: 8 ECU
 SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] "m/s" PITSENSE
 SG_ Temp : 23|8@0- (0.5,-40) [-100|100] "degC" PITSENSE

BO_ 2147484160 MUXED: 8 ECU
 SG_ Mode M : 0|8@1+ (1,0) [0|255] "" PITSENSE
 SG_ A m1 : 8|16@1+ (1,0) [0|65535] "" PITSENSE
 SG_ B m2 : 8|32@1- (0.001,0) [-2147483.648|2147483.647] "" PITSENSE

VAL_ 256 Temp 0 "cold" 1 "warm" ;
"""
    payloads = bytes([0, 8]) + bytes(range(8)) + bytes([1, 8, 1, 0x34, 0x12, 0, 0, 0, 0, 0]) + bytes([1, 8, 2, 1, 2, 3, 4, 5, 6, 7])
    (SEEDS / "dbc" / "own_dbc").write_bytes(b"\x00" + dbc.encode() + b"\x00" + payloads)
    truck = b"".join(bytes([index, 8]) + bytes((index * 37 + k) % 256 for k in range(8)) for index in range(8))
    (SEEDS / "dbc" / "truck_dbc").write_bytes(b"\x01" + truck)


if __name__ == "__main__":
    main()
