#!/usr/bin/env python3
"""Golden fixtures for tests/robot, produced by the real code embody must match.

  * packet bytes from the Feetech SDK LeRobot uses (`pip install feetech-servo-sdk`, module
    scservo_sdk 1.0.0) driving a fake port that records what it writes;
  * status packets built here by hand and accepted (COMM_SUCCESS, same data) by the SDK's parser;
  * sign-magnitude values from lerobot.motors.encoding_utils;
  * SO-101 follower/leader calibration files written by LeRobot 0.4.4's own Robot/Teleoperator
    `_save_calibration` (draccus.dump(..., indent=4));
  * normalization values from FeetechMotorsBus._normalize/_unnormalize (LeRobot 0.4.4).

Run (needs lerobot 0.4.4 and feetech-servo-sdk importable together; the SDK is pure Python):
    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install feetech-servo-sdk
    mkdir -p /tmp/scs_only && cp -r /tmp/sdkvenv/lib/python3.*/site-packages/scservo_sdk /tmp/scs_only/
    PYTHONPATH=/tmp/scs_only /opt/embody-tools-venv/bin/python tests/robot/gen_golden.py tests/robot/testdata
"""
import json
import sys
import tempfile
from pathlib import Path

import scservo_sdk as scs
from lerobot.motors import Motor, MotorCalibration, MotorNormMode
from lerobot.motors.encoding_utils import decode_sign_magnitude, encode_sign_magnitude
from lerobot.motors.feetech import FeetechMotorsBus


class FakePort:
    """Records writes; serves canned reply bytes; times out when they run out."""

    def __init__(self, rx=b""):
        self.tx = bytearray()
        self.rx = bytearray(rx)
        self.is_using = False

    def clearPort(self):
        pass

    def writePort(self, packet):
        self.tx += bytes(packet)
        return len(packet)

    def readPort(self, n):
        out = list(self.rx[:n])
        del self.rx[:n]
        return out

    def setPacketTimeout(self, n):
        pass

    def setPacketTimeoutMillis(self, ms):
        pass

    def isPacketTimeout(self):
        return True


def status_packet(id_, error, params):
    body = [id_, len(params) + 2, error] + list(params)
    return bytes([0xFF, 0xFF] + body + [(~sum(body)) & 0xFF])


ph = scs.PacketHandler(0)
cases = []


def add(name, tx, rx=b"", **extra):
    d = {"name": name, "tx": tx.hex(), "rx": rx.hex()}
    d.update(extra)
    cases.append(d)


# PING id 1; the SDK then reads Model_Number (addr 3, 2 bytes); STS3215 answers 777 = 0x0309.
rx = status_packet(1, 0, []) + status_packet(1, 0, [0x09, 0x03])
p = FakePort(rx)
model, res, err = ph.ping(p, 1)
assert res == scs.COMM_SUCCESS and model == 777, (res, model)
add("ping_id1_sdk", bytes(p.tx), rx, model=model)

# READ Present_Position (56, 2) of id 3 -> 2048.
rx = status_packet(3, 0, [0x00, 0x08])
p = FakePort(rx)
v, res, err = ph.read2ByteTxRx(p, 3, 56)
assert res == scs.COMM_SUCCESS and v == 2048
add("read_present_position_id3", bytes(p.tx), rx, value=v)

# READ with an error byte (overload 0x20 | voltage 0x01): SDK still succeeds, reports error.
rx = status_packet(2, 0x21, [0xFF, 0x07])
p = FakePort(rx)
v, res, err = ph.read2ByteTxRx(p, 2, 56)
assert res == scs.COMM_SUCCESS and err == 0x21 and v == 2047
add("read_with_error_bits_id2", bytes(p.tx), rx, value=v, error=err,
    sdk_error_text=ph.getRxPacketError(err))

# READ with a corrupted checksum -> COMM_RX_CORRUPT.
good = status_packet(3, 0, [0x00, 0x08])
bad = good[:-1] + bytes([good[-1] ^ 0x5A])
p = FakePort(bad)
v, res, err = ph.read2ByteTxRx(p, 3, 56)
assert res == scs.COMM_RX_CORRUPT
add("read_bad_checksum_id3", bytes(p.tx), bad, sdk_result=ph.getTxRxResult(res))

# WRITE Torque_Enable (40) = 1 on id 4; Lock (55) = 1; Goal_Position (42) = 2500 on id 6.
rx = status_packet(4, 0, [])
p = FakePort(rx)
res, err = ph.write1ByteTxRx(p, 4, 40, 1)
assert res == scs.COMM_SUCCESS
add("write_torque_enable_id4", bytes(p.tx), rx)
p = FakePort(status_packet(6, 0, []))
res, err = ph.write2ByteTxRx(p, 6, 42, 2500)
add("write_goal_position_id6", bytes(p.tx), status_packet(6, 0, []))
# Homing_Offset -300 on id 1 as LeRobot encodes it (sign bit 11) then splits little-endian.
ho = encode_sign_magnitude(-300, 11)
p = FakePort(status_packet(1, 0, []))
res, err = ph.write2ByteTxRx(p, 1, 31, ho)
add("write_homing_offset_m300_id1", bytes(p.tx), status_packet(1, 0, []), encoded=ho)

# SYNC READ Present_Position of ids 1..6.
positions = {1: 2047, 2: 1000, 3: 3000, 4: 2048, 5: 0, 6: 4095}
rx = b"".join(status_packet(i, 0, [v & 0xFF, v >> 8]) for i, v in positions.items())
p = FakePort(rx)
gsr = scs.GroupSyncRead(p, ph, 56, 2)
for i in positions:
    gsr.addParam(i)
res = gsr.txRxPacket()
assert res == scs.COMM_SUCCESS
got = {i: gsr.getData(i, 56, 2) for i in positions}
assert got == positions, got
add("sync_read_present_position_1to6", bytes(p.tx), rx, values=[positions[i] for i in positions],
    ids=list(positions))

# SYNC WRITE Goal_Position ids 1..6 (no reply).
goals = {1: 2048, 2: 1500, 3: 2600, 4: 100, 5: 4000, 6: 1234}
p = FakePort()
gsw = scs.GroupSyncWrite(p, ph, 42, 2)
for i, v in goals.items():
    gsw.addParam(i, [scs.SCS_LOBYTE(v), scs.SCS_HIBYTE(v)])
res = gsw.txPacket()
assert res == scs.COMM_SUCCESS
add("sync_write_goal_position_1to6", bytes(p.tx), b"", values=[goals[i] for i in goals], ids=list(goals))

# SYNC WRITE Torque_Enable 0 on ids 1..3 (1 byte each).
p = FakePort()
gsw = scs.GroupSyncWrite(p, ph, 40, 1)
for i in (1, 2, 3):
    gsw.addParam(i, [0])
gsw.txPacket()
add("sync_write_torque_off_1to3", bytes(p.tx), b"", values=[0, 0, 0], ids=[1, 2, 3])

# Sign-magnitude (LeRobot encoding_utils).
sign = []
for v, bit in [(0, 11), (300, 11), (-300, 11), (2047, 11), (-2047, 11), (-1, 15), (1000, 15), (-4095, 15),
               (-5, 10), (1023, 10)]:
    e = encode_sign_magnitude(v, bit)
    assert decode_sign_magnitude(e, bit) == v
    sign.append({"value": v, "bit": bit, "encoded": e})

# Calibration files written by LeRobot's own robot/teleoperator classes.
from lerobot.robots.so_follower import SOFollowerRobotConfig, SOFollower  # noqa: E402
from lerobot.teleoperators.so_leader import SOLeaderTeleopConfig, SOLeader  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
follower_cal = {
    "shoulder_pan": MotorCalibration(1, 0, -1107, 747, 3482),
    "shoulder_lift": MotorCalibration(2, 0, 1390, 893, 3268),
    "elbow_flex": MotorCalibration(3, 0, -1573, 855, 3089),
    "wrist_flex": MotorCalibration(4, 0, 1109, 825, 3225),
    "wrist_roll": MotorCalibration(5, 0, -40, 0, 4095),
    "gripper": MotorCalibration(6, 0, 1407, 2023, 3460),
}
leader_cal = {
    "shoulder_pan": MotorCalibration(1, 0, -1943, 771, 3331),
    "shoulder_lift": MotorCalibration(2, 0, -1425, 897, 3199),
    "elbow_flex": MotorCalibration(3, 0, 1579, 960, 3164),
    "wrist_flex": MotorCalibration(4, 0, -1084, 824, 3207),
    "wrist_roll": MotorCalibration(5, 0, 2012, 0, 4095),
    "gripper": MotorCalibration(6, 0, -1067, 2006, 3272),
}
with tempfile.TemporaryDirectory() as td:
    robot = SOFollower(SOFollowerRobotConfig(port="/dev/null", id="follower_arm", calibration_dir=Path(td) / "f"))
    robot.calibration = follower_cal
    robot._save_calibration()
    (out / "so101_follower_calibration.json").write_bytes(robot.calibration_fpath.read_bytes())
    leader = SOLeader(SOLeaderTeleopConfig(port="/dev/null", id="leader_arm", calibration_dir=Path(td) / "l"))
    leader.calibration = leader_cal
    leader._save_calibration()
    (out / "so101_leader_calibration.json").write_bytes(leader.calibration_fpath.read_bytes())


# Normalization through FeetechMotorsBus with the follower calibration.
def bus_for(mode_body):
    motors = {
        "shoulder_pan": Motor(1, "sts3215", mode_body),
        "shoulder_lift": Motor(2, "sts3215", mode_body),
        "elbow_flex": Motor(3, "sts3215", mode_body),
        "wrist_flex": Motor(4, "sts3215", mode_body),
        "wrist_roll": Motor(5, "sts3215", mode_body),
        "gripper": Motor(6, "sts3215", MotorNormMode.RANGE_0_100),
    }
    return FeetechMotorsBus(port="/dev/null", motors=motors, calibration=follower_cal)


norm = []
for mode_name, mode in [("degrees", MotorNormMode.DEGREES), ("range_m100_100", MotorNormMode.RANGE_M100_100)]:
    bus = bus_for(mode)
    for id_ in range(1, 7):
        for raw in [0, 500, 747, 800, 1234, 2047, 2048, 2115, 3000, 3482, 3500, 4095]:
            n = bus._normalize({id_: raw})[id_]
            norm.append({"body_mode": mode_name, "id": id_, "raw": raw, "normalized": n})
    unnorm = []
    for id_ in range(1, 7):
        for val in [-180.0, -90.5, -45.0, -10.26, -0.01, 0.0, 0.01, 12.3456, 33.3, 50.0, 99.99, 100.0, 120.0]:
            r = bus._unnormalize({id_: val})[id_]
            norm.append({"body_mode": mode_name, "id": id_, "value": val, "unnormalized": r})

from lerobot.motors.feetech.tables import STS_SMS_SERIES_CONTROL_TABLE, STS_SMS_SERIES_ENCODINGS_TABLE  # noqa: E402

registers = {name: [addr, size, STS_SMS_SERIES_ENCODINGS_TABLE.get(name, -1)]
             for name, (addr, size) in STS_SMS_SERIES_CONTROL_TABLE.items()}
golden = {"registers": registers, "generator": "tests/robot/gen_golden.py", "sdk": "feetech-servo-sdk 1.0.0", "lerobot": "0.4.4",
          "packets": cases, "sign_magnitude": sign, "normalization": norm}
(out / "feetech_golden.json").write_text(json.dumps(golden, indent=1) + "\n")
print("wrote", len(cases), "packets,", len(norm), "normalization cases")
