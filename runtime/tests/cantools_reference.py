"""Independent reference for runtime/tests/can.rs: Python cantools decodes and encodes the
same frames with the same DBC.

Reads one JSON request on stdin, writes one JSON answer on stdout:

  {"dbc": PATH, "describe": true,
   "decode": [{"can_id": N, "extended": BOOL, "data": HEX}, ...],
   "encode": [{"message": NAME, "signals": {NAME: VALUE}}, ...]}

  -> {"messages": [{"name", "can_id", "extended", "length", "signals": [{"name", "minimum",
                    "maximum", "scale", "offset", "length", "is_signed", "is_float",
                    "is_multiplexer", "multiplexer_ids", "choices"}]}],
      "decode": [null | {"name", "signals": {NAME: VALUE}} | {"error": TEXT}, ...],
      "encode": [{"data": HEX} | {"error": TEXT}, ...]}

Decoded values are written as strings holding Python's repr of the float (exact, and "nan",
"inf", "-inf" for non-finite IEEE float signals). Decoding uses physical values without value-table names (decode_choices=False); encoding is
strict (exactly the signals the message sends, ranges checked).
"""

import json
import sys

import cantools


def describe(db):
    messages = []
    for message in db.messages:
        signals = []
        for signal in message.signals:
            signals.append({
                "name": signal.name,
                "minimum": signal.minimum,
                "maximum": signal.maximum,
                "scale": signal.scale,
                "offset": signal.offset,
                "length": signal.length,
                "is_signed": signal.is_signed,
                "is_float": signal.is_float,
                "is_multiplexer": signal.is_multiplexer,
                "multiplexer_ids": signal.multiplexer_ids,
                "choices": sorted(int(k) for k in (signal.choices or {})),
            })
        messages.append({
            "name": message.name,
            "can_id": message.frame_id,
            "extended": message.is_extended_frame,
            "length": message.length,
            "signals": signals,
        })
    return messages


def decode(db, request):
    try:
        message = db.get_message_by_frame_id(request["can_id"])
    except KeyError:
        return None
    if message.is_extended_frame != request["extended"]:
        return None
    try:
        values = message.decode(bytes.fromhex(request["data"]), decode_choices=False, scaling=True)
    except Exception as error:  # cantools raises several types; the text is what we compare.
        return {"error": str(error)}
    return {"name": message.name, "signals": {name: number(value) for name, value in values.items()}}


def number(value):
    """A float as its shortest round-trip text ("nan", "inf", "-inf" for non-finite ones), so
    that the reader gets the exact double whatever its JSON number parser does."""
    return repr(float(value))


def encode(db, request):
    try:
        message = db.get_message_by_name(request["message"])
        data = message.encode(request["signals"], scaling=True, strict=True)
    except Exception as error:
        return {"error": str(error)}
    return {"data": data.hex()}


def main():
    request = json.load(sys.stdin)
    db = cantools.database.load_file(request["dbc"])
    answer = {
        "messages": describe(db) if request.get("describe") else [],
        "decode": [decode(db, r) for r in request.get("decode", [])],
        "encode": [encode(db, r) for r in request.get("encode", [])],
    }
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
