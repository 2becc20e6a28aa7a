"""Deterministic demo data for the data-element market (small, realistic, zh + en text).

Everything here is generated from fixed seeds, so ``seed_demo`` produces the same bytes
(and therefore the same SHA-256) on every machine and every run.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field

from exchange.validators import credit_code_check_character

DEMO_PASSWORD = "shujiao-demo-2026"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "shujiao-admin-2026"


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


@dataclass(frozen=True)
class DemoFirm:
    username: str
    name: str
    city: str
    code17: str
    description: str

    @property
    def credit_code(self) -> str:
        return credit_code(self.code17)


@dataclass(frozen=True)
class DemoDataset:
    firm: str
    title: str
    description: str
    category: str
    kind: str
    tags: list[str]
    schema: dict
    filename: str
    offers: list[dict] = field(default_factory=list)
    rai: dict = field(default_factory=dict)  # the Responsible-AI declaration (rai_* fields)


FIRMS = [
    DemoFirm("hefei", "合肥声智科技有限公司 (Hefei Shengzhi Speech AI)", "Hefei 合肥", "91340100MA2NXK7Q0",
             "Speech recognition and dialogue data for Mandarin and regional dialects."),
    DemoFirm("hangzhou", "杭州视安智能科技有限公司 (Hangzhou Shi'an Security Video)", "Hangzhou 杭州", "91330106MA27YH3L4",
             "Security-camera analytics; annotated object-detection data from street and campus scenes."),
    DemoFirm("wuhan", "武汉光联模块技术有限公司 (Wuhan Guanglian Optical Modules)", "Wuhan 武汉", "91420100MA4K2P8T6",
             "Optical transceiver maker; cleaned production test records from our module lines."),
    DemoFirm("buyer", "北京智算数据应用有限公司 (Beijing Zhisuan Data Applications)", "Beijing 北京", "91110108MA01R5W9X",
             "Builds AI models for customer service and industrial quality control."),
]

INTENTS = ["greeting", "query_weather", "navigation", "play_music", "complaint"]
UTTERANCES = {
    "greeting": ["你好，小智", "早上好", "Hello, are you there?", "嗨，在吗"],
    "query_weather": ["明天合肥会下雨吗", "今天气温多少度", "What's the weather in Shanghai tomorrow?", "这周末天气怎么样"],
    "navigation": ["导航去合肥南站", "最近的加油站在哪里", "Take me to the airport", "避开拥堵路段回家"],
    "play_music": ["播放周杰伦的歌", "来点轻音乐", "Play some jazz", "下一首"],
    "complaint": ["你又听错了", "这个回答不对", "That's not what I asked", "声音太小了听不清"],
}
DIALECTS = ["Mandarin", "Jianghuai", "Wu", "Cantonese"]

SPEECH_SCHEMA = {
    "fields": [
        {"name": "utterance_id", "type": "string", "description": "Unique utterance id"},
        {"name": "audio_path", "type": "string", "description": "Relative path of the audio clip"},
        {"name": "duration_ms", "type": "integer", "description": "Clip length in milliseconds"},
        {"name": "dialect", "type": "string", "description": "Speaker's dialect"},
        {"name": "transcript", "type": "string", "description": "Verbatim transcript 转写文本"},
        {"name": "intent", "type": "string", "description": "Intent label"},
    ],
    "primaryKey": ["utterance_id"],
    "labelField": "intent",
    "labels": INTENTS,
    "inputFields": ["transcript"],
    "personalData": False,
}

DETECTION_LABELS = ["person", "car", "bicycle", "truck", "bus"]
DETECTION_SCHEMA = {
    "fields": [
        {"name": "annotation_id", "type": "string", "description": "Unique annotation id"},
        {"name": "frame", "type": "string", "description": "Frame image path"},
        {"name": "camera", "type": "string", "description": "Camera location"},
        {"name": "captured_at", "type": "datetime", "description": "Capture time (UTC)"},
        {"name": "x", "type": "integer"}, {"name": "y", "type": "integer"},
        {"name": "w", "type": "integer"}, {"name": "h", "type": "integer"},
        {"name": "occluded", "type": "boolean"},
        {"name": "label", "type": "string", "description": "Object class"},
    ],
    "primaryKey": ["annotation_id"],
    "labelField": "label",
    "labels": DETECTION_LABELS,
    "inputFields": ["frame", "x", "y", "w", "h"],
    "personalData": False,
}

OPTICAL_SCHEMA = {
    "fields": [
        {"name": "serial_no", "type": "string", "description": "Module serial number"},
        {"name": "product", "type": "string"},
        {"name": "station", "type": "string", "description": "Test station"},
        {"name": "tested_at", "type": "datetime"},
        {"name": "tx_power_dbm", "type": "number", "description": "Transmit optical power (dBm)"},
        {"name": "rx_sensitivity_dbm", "type": "number", "description": "Receiver sensitivity (dBm)"},
        {"name": "extinction_ratio_db", "type": "number"},
        {"name": "case_temp_c", "type": "number", "description": "Case temperature (°C)"},
        {"name": "result", "type": "string", "description": "PASS or FAIL"},
    ],
    "primaryKey": ["serial_no"],
    "personalData": False,
}

DATASETS = [
    DemoDataset(
        "hefei", "普通话及方言语音转写意图数据集 Mandarin & dialect speech transcripts with intents",
        "2,000 in-car voice-assistant utterances from Hefei and the Yangtze delta, transcribed verbatim "
        "(中文 and English) and labelled with one of five intents. Speakers consented; no personal data.",
        "speech", "labelled", ["speech", "ASR", "intent", "方言"], SPEECH_SCHEMA, "speech_intents.csv",
        [{"name": "Research licence", "price_fen": 880_000, "access_mode": "instant", "term_days": 365,
          "download_limit": 5, "purpose_restriction": "Model training and evaluation inside the buyer's firm.",
          "guarantee": {"min_rows": 2000, "label_tolerance_pp": 5, "no_undeclared_personal_data": True},
          # Licensees may sell cleaned copies (lineage), paying 15 % of each sale after commission.
          "derivatives_allowed": True, "derivative_share_bp": 1500},
         {"name": "Commercial licence", "price_fen": 4_800_000, "access_mode": "approval", "term_days": 730,
          "download_limit": 10, "purpose_restriction": "Training models used in commercial products."},
         # A subscription (issue 11): every version published in the year reaches the subscriber, with the diff.
         {"name": "Update subscription 更新订阅", "price_fen": 1_500_000, "access_mode": "approval", "term_days": 365,
          "download_limit": 5, "kind": "subscription",
          "purpose_restriction": "Model training and evaluation inside the buyer's firm."}],
        {"rai_data_collection": "Recorded in cars on drives around Hefei and Nanjing, 2025–2026, with the "
                                "speakers' written consent; read and spontaneous speech.",
         "rai_data_annotation_protocol": "Three annotators label each utterance's intent from a five-intent "
                                         "guideline; majority vote, ties settled by a senior linguist.",
         "rai_data_annotation_platform": "In-house transcription and labelling tool",
         "rai_annotations_per_item": 3,
         "rai_annotator_demographics": "18 annotators, native Mandarin speakers; 7 also speak Jianghuai Mandarin.",
         "rai_data_use_cases": "Training and evaluating in-car intent classifiers. Not for speaker identification.",
         "rai_data_biases": "Adult speakers only; Jianghuai dialects over-represented compared to the national mix."},
    ),
    DemoDataset(
        "hangzhou", "城市街景目标检测标注 Street-scene object-detection annotations",
        "1,500 bounding-box annotations from Hangzhou street and campus cameras: people, cars, bicycles, "
        "trucks and buses. Faces and plates were blurred before annotation.",
        "vision", "labelled", ["vision", "detection", "bbox", "安防"], DETECTION_SCHEMA, "street_detections.jsonl",
        [{"name": "Evaluation licence", "price_fen": 1_200_000, "access_mode": "approval", "term_days": 180,
          "download_limit": 3, "purpose_restriction": "Benchmarking detection models; no redistribution."}],
        {"rai_data_collection": "Frames sampled every 10 s from 40 fixed street and campus cameras in Hangzhou.",
         "rai_machine_annotation_tools": "Boxes pre-drawn by a YOLO detector, then corrected by hand.",
         "rai_personal_sensitive_information": "Faces and licence plates were blurred before annotation.",
         "rai_data_limitations": "Daytime frames only; no rain or night scenes."},
    ),
    DemoDataset(
        "wuhan", "光模块产线测试记录（清洗后）Cleaned optical-module production test records",
        "1,200 cleaned final-test records of 100G/400G optical transceivers from Wuhan lines: optical power, "
        "receiver sensitivity, extinction ratio, case temperature and the pass/fail result.",
        "manufacturing", "cleaned", ["manufacturing", "optics", "yield", "光模块"], OPTICAL_SCHEMA, "module_tests.csv",
        [{"name": "Yield analytics licence", "price_fen": 350_000, "access_mode": "instant", "term_days": 365,
          "download_limit": 5, "purpose_restriction": "Yield and process analytics.",
          # Each buyer's copy is fingerprinted (docs/fingerprints.md): a leak traces to its contract.
          "fingerprint": True, "fingerprint_gamma": 20}],
    ),
]


def speech_csv(rows: int = 2000, seed: int = 20261127) -> bytes:
    rnd = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f["name"] for f in SPEECH_SCHEMA["fields"]])
    for i in range(rows):
        intent = rnd.choices(INTENTS, weights=[3, 4, 4, 3, 1])[0]
        text = rnd.choice(UTTERANCES[intent])
        writer.writerow([f"HF-{i:06d}", f"audio/{i // 500:02d}/HF-{i:06d}.wav", rnd.randint(800, 6500),
                         rnd.choice(DIALECTS), text, intent])
    return out.getvalue().encode("utf-8")


def speech_csv_v2(seed: int = 20261203) -> bytes:
    """Version 2 of the speech data (a revision of the same listing): 40 utterances relabelled
    after a second annotation pass, 20 withdrawn, 100 new ones."""
    rnd = random.Random(seed)
    rows = list(csv.reader(io.StringIO(speech_csv().decode("utf-8"))))
    header, body = rows[0], rows[1:]
    withdrawn = set(rnd.sample(range(len(body)), 20))
    relabelled = set(rnd.sample([i for i in range(len(body)) if i not in withdrawn], 40))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(body):
        if i in withdrawn:
            continue
        if i in relabelled:
            row = [*row[:-1], rnd.choice([x for x in INTENTS if x != row[-1]])]
        writer.writerow(row)
    for j in range(len(body), len(body) + 100):
        intent = rnd.choices(INTENTS, weights=[3, 4, 4, 3, 1])[0]
        writer.writerow([f"HF-{j:06d}", f"audio/{j // 500:02d}/HF-{j:06d}.wav", rnd.randint(800, 6500),
                         rnd.choice(DIALECTS), rnd.choice(UTTERANCES[intent]), intent])
    return out.getvalue().encode("utf-8")


# The revision the demo publishes to the speech listing: (dataset file name, v2 bytes, changelog).
REVISION = ("speech_intents.csv", speech_csv_v2,
            "Second annotation pass: 40 utterances relabelled, 20 withdrawn at the speakers' request, 100 new.")


def detections_jsonl(rows: int = 1500, seed: int = 20261128) -> bytes:
    rnd = random.Random(seed)
    cameras = ["西湖区文三路口 Wensan Rd", "滨江区园区东门 Binjiang campus gate", "余杭区地铁站 Yuhang metro"]
    lines = []
    for i in range(rows):
        label = rnd.choices(DETECTION_LABELS, weights=[6, 5, 2, 1, 1])[0]
        w, h = (rnd.randint(20, 80), rnd.randint(60, 200)) if label == "person" else (rnd.randint(60, 400), rnd.randint(40, 220))
        # Real annotation work has a few rough edges; the quality report shows them to buyers:
        # an occasional class outside the declared set and frames whose occlusion flag is unknown.
        if i % 125 == 7:
            label = "motorbike"
        lines.append(json.dumps({
            "annotation_id": f"HZ-{i:06d}", "frame": f"frames/{i // 10:05d}.jpg", "camera": rnd.choice(cameras),
            "captured_at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "x": rnd.randint(0, 1800), "y": rnd.randint(0, 1000), "w": w, "h": h,
            "occluded": None if i % 60 == 13 else rnd.random() < 0.15, "label": label,
        }, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def optical_csv(rows: int = 1200, seed: int = 20261129) -> bytes:
    rnd = random.Random(seed)
    products = ["100G QSFP28 LR4", "100G QSFP28 SR4", "400G QSFP-DD DR4", "400G QSFP-DD FR4"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f["name"] for f in OPTICAL_SCHEMA["fields"]])
    for i in range(rows):
        tx = round(rnd.gauss(1.5, 0.8), 2)
        rx = round(rnd.gauss(-12.5, 0.9), 2)
        er = round(rnd.gauss(5.2, 0.5), 2)
        result = "PASS" if -1.0 < tx < 4.0 and rx < -10.6 and er > 3.5 else "FAIL"
        # The thermal probe of station FT-03 was offline for part of the run: no case temperature.
        station = f"FT-{rnd.randint(1, 6):02d}"
        temp = "" if station == "FT-03" and i % 7 == 0 else round(rnd.uniform(24.0, 72.0), 1)
        writer.writerow([f"WH26{i:07d}", rnd.choice(products), station,
                         f"2026-11-{1 + i % 26:02d}T{8 + i % 12:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z",
                         tx, rx, er, temp, result])
    return out.getvalue().encode("utf-8")


FILES = {"speech_intents.csv": speech_csv, "street_detections.jsonl": detections_jsonl, "module_tests.csv": optical_csv}


@dataclass(frozen=True)
class DemoPurchase:
    buyer: str
    seller: str
    topup_fen: int
    purpose: str


# The demo buyer's completed purchase: it tops up its wallet (staff top-up) and buys the Wuhan
# optical dataset's instant offer, so a signed delivery exists from the start.
# After-sales in the demo: Hangzhou accepts its delivery of Hefei's speech data (settled after acceptance), and
# Hefei, buying Hangzhou's detections, reports a problem (an open dispute in the admin queue).
ACCEPTED = DemoPurchase(buyer="hangzhou", seller="hefei", topup_fen=1_000_000,
                        purpose="Training the voice-command classifier of our camera control app 语音控制.")
DISPUTED = DemoPurchase(buyer="hefei", seller="hangzhou", topup_fen=2_000_000,
                        purpose="Benchmarking our pedestrian detector on street scenes 行人检测评测.")
DISPUTE_TEXT = ("About 40 of the 1,500 boxes label bicycles as people; the listing describes the classes as "
                "checked by two annotators.")

# Wuhan subscribes to Hefei's speech data before v2 is published: it holds the v1 delivery and the v2 update.
SUBSCRIBED = DemoPurchase(buyer="wuhan", seller="hefei", topup_fen=1_500_000,
                          purpose="Training the voice assistant of our test-station operators 产线语音助手.")

PURCHASE = DemoPurchase(
    buyer="buyer", seller="wuhan", topup_fen=2_000_000,
    purpose="Yield analytics for our optical-module supplier quality dashboard 供应商良率分析.",
)


def speech_csv_derived() -> bytes:
    """Hangzhou's cleaned copy of the Hefei speech data it licensed (v1): near-duplicate clips
    removed (same dialect and transcript, length within the same 0.5 s) and clips under 1 s dropped."""
    rows = list(csv.reader(io.StringIO(speech_csv().decode("utf-8"))))
    header, body = rows[0], rows[1:]
    seen: set[tuple[str, str, int]] = set()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in body:
        duration = int(row[2])
        key = (row[3], row[4], duration // 500)
        if duration < 1000 or key in seen:
            continue
        seen.add(key)
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class DemoDerived:
    """A dataset derived from a licensed demo dataset (lineage), and a sale of it that pays the share."""

    firm: str  # the licensee selling the derived data
    upstream_file: str  # the upstream demo dataset, by its file name
    buyer: str
    dataset: DemoDataset
    make: object
    steps: tuple[str, ...]
    notes: str
    purpose: str


DERIVED = DemoDerived(
    firm="hangzhou", upstream_file="speech_intents.csv", buyer="buyer",
    dataset=DemoDataset(
        "hangzhou", "普通话语音意图数据（去重精选）Deduplicated Mandarin speech intents",
        "A cleaned copy of Hefei Shengzhi's speech-intent data, licensed for derivatives: near-duplicate clips "
        "removed and clips under one second dropped. 15 % of each sale goes to Hefei Shengzhi.",
        "speech", "labelled", ["speech", "intent", "deduplicated", "去重"], SPEECH_SCHEMA, "speech_intents_dedup.csv",
        [{"name": "Derived research licence", "price_fen": 300_000, "access_mode": "instant", "term_days": 365,
          "download_limit": 5, "acceptance_days": 0,
          "purpose_restriction": "Model training and evaluation inside the buyer's firm."}]),
    make=speech_csv_derived, steps=("deduplicated", "filtered"),
    notes="Removed near-duplicate clips (same dialect and transcript, length within 0.5 s); dropped clips under 1 s.",
    purpose="Training a compact in-car intent model on clean clips 精选语音训练.",
)
