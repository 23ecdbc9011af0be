"""Reference reading of NMEA 0183 sentences with pynmea2 (pip `pynmea2==1.19.0`).

Reads one sentence per line on stdin and prints one JSON object per line with every field the
pitsense parser reads, in its units (degrees signed north/east, m/s, seconds since midnight),
or {"error": "checksum" | "parse" | "type"} when pynmea2 rejects the line with strict checksum
checking. Used by runtime/tests/gnss.rs.

pynmea2 has no THS sentence: it is declared here from the NMEA 0183 v4.11 table (heading, mode
indicator), which registers it with pynmea2's parser like its own types.
"""

import json
import sys

import pynmea2
from pynmea2.nmea import TalkerSentence


class THS(TalkerSentence):
    """True heading and status (NMEA 0183 v3.01+)."""

    fields = (
        ("Heading", "heading"),
        ("Mode indicator", "mode"),
    )


def number(text):
    return float(text) if text not in (None, "") else None


def integer(text):
    return int(text) if text not in (None, "") else None


def time_of_day(t):
    if t is None:
        return None
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def latlon(msg):
    lat = msg.latitude if msg.lat else None
    lon = msg.longitude if msg.lon else None
    return lat, lon


def read(line):
    try:
        msg = pynmea2.parse(line, check=True)
    except pynmea2.ChecksumError:
        return {"error": "checksum"}
    except pynmea2.SentenceTypeError:
        return {"error": "type"}
    except (pynmea2.ParseError, ValueError):
        return {"error": "parse"}
    out = {"talker": msg.talker, "type": msg.sentence_type}
    if msg.sentence_type == "GGA":
        lat, lon = latlon(msg)
        out.update(
            utc_time_of_day_s=time_of_day(msg.timestamp),
            lat_deg=lat,
            lon_deg=lon,
            quality=msg.gps_qual,
            satellites_in_use=integer(msg.num_sats),
            hdop=number(msg.horizontal_dil),
            altitude_msl_m=msg.altitude,
            geoid_separation_m=number(msg.geo_sep),
            dgps_age_s=number(msg.age_gps_data),
            dgps_station_id=integer(msg.ref_station_id),
        )
    elif msg.sentence_type == "RMC":
        lat, lon = latlon(msg)
        date = msg.datestamp
        variation = number(msg.mag_variation)
        if variation is not None and msg.mag_var_dir == "W":
            variation = -variation
        out.update(
            utc_time_of_day_s=time_of_day(msg.timestamp),
            status=msg.status or None,
            lat_deg=lat,
            lon_deg=lon,
            speed_mps=msg.spd_over_grnd * 1852.0 / 3600.0 if msg.spd_over_grnd is not None else None,
            course_over_ground_deg=msg.true_course,
            date=[date.year, date.month, date.day] if date else None,
            magnetic_variation_deg=variation,
            mode=getattr(msg, "mode_indicator", None) or None,
        )
    elif msg.sentence_type == "HDT":
        out.update(true_heading_deg=float(msg.heading) if msg.heading is not None else None)
    elif msg.sentence_type == "THS":
        out.update(true_heading_deg=number(msg.heading), mode=msg.mode or None)
    return out


def main():
    assert pynmea2.version == "1.19.0", f"pynmea2 {pynmea2.version}, expected 1.19.0"
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line:
            print(json.dumps(read(line)))


if __name__ == "__main__":
    main()
