#!/usr/bin/env python3
"""Validate the taxonomy seed data in this directory.

Usage:
    python services/api/taxonomy/seed/check_seed.py [SEED_DIR]

Loads ``vocabulary.json`` plus every other ``*.json`` file in the seed
directory (curriculum files such as ``primary_math_pep.json``) and checks:

* JSON shape: required keys, value types, no unknown keys (knowledge points
  may also carry the optional ``edition`` / ``same_as`` keys of the import
  document);
* codes match ``^[a-z0-9][a-z0-9._-]{0,63}$`` and are unique per kind across
  all files (volumes, chapters, knowledge points; each vocabulary list);
* names are non-empty, at most 100 characters, trimmed, contain Chinese
  characters and use full-width parentheses; knowledge-point names are
  unique among siblings;
* knowledge-point parents exist in the same file, appear before their
  children, share subject/stage, and child codes extend the parent code;
* volumes reference existing editions/subjects/grades, terms are valid;
* chapters reference existing volumes and knowledge points, positions are
  1..n within each volume, referenced knowledge points match the volume's
  subject and stage;
* every leaf knowledge point is referenced by at least one chapter;
* minimum knowledge-point counts for the known curriculum files.

Prints counts per file. Exits 1 with one message per violation.
Standard library only.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
VOCAB_FILE = "vocabulary.json"

# Minimum number of knowledge-point nodes expected in known curriculum files.
MIN_KNOWLEDGE_POINTS = {
    "primary_math_pep.json": 200,
    "junior_physics_pep.json": 130,
}
# Knowledge-point code prefix expected for each (subject, stage).
KP_PREFIX = {
    ("math", "primary"): "math.p",
    ("physics", "junior"): "phys.j",
}

VOCAB_SHAPE = {
    "subjects": {"code": str, "name": str},
    "stages": {"code": str, "name": str},
    "grades": {"code": str, "name": str, "stage": str, "position": int},
    "editions": {"code": str, "name": str},
}
VOLUME_SHAPE = {"code": str, "name": str, "edition": str, "subject": str, "grade": str, "term": int}
CHAPTER_SHAPE = {"code": str, "volume": str, "name": str, "position": int, "knowledge_points": list}
KP_SHAPE = {"code": str, "name": str, "subject": str, "stage": str, "parent": (str, type(None))}
# Optional knowledge-point keys accepted by the import document (schemas.KnowledgePointEntry).
KP_OPTIONAL = {"edition": (str, type(None)), "same_as": (str, type(None))}
MAX_NAME_LENGTH = 100  # models: String(100)
TERM_SUFFIX = {0: "全一册", 1: "上册", 2: "下册"}


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")

    # -- generic helpers -------------------------------------------------
    def check_shape(self, where: str, item: object, shape: dict, optional: dict | None = None) -> bool:
        optional = optional or {}
        if not isinstance(item, dict):
            self.err(where, f"expected an object, got {type(item).__name__}")
            return False
        ok = True
        for key, typ in shape.items():
            if key not in item:
                self.err(where, f"missing key '{key}'")
                ok = False
                continue
            value = item[key]
            # bool is a subclass of int; reject it where an int is expected.
            if isinstance(value, bool) or not isinstance(value, typ):
                self.err(where, f"key '{key}' has wrong type {type(value).__name__}")
                ok = False
        for key, typ in optional.items():
            if key in item and (isinstance(item[key], bool) or not isinstance(item[key], typ)):
                self.err(where, f"key '{key}' has wrong type {type(item[key]).__name__}")
                ok = False
        for key in item:
            if key not in shape and key not in optional:
                self.err(where, f"unknown key '{key}'")
                ok = False
        return ok

    def check_code(self, where: str, code: str) -> None:
        if not CODE_RE.match(code):
            self.err(where, f"code {code!r} does not match {CODE_RE.pattern}")

    def check_name(self, where: str, name: str) -> None:
        if len(name) > MAX_NAME_LENGTH:
            self.err(where, f"name is longer than {MAX_NAME_LENGTH} characters")
        if not name or name != name.strip():
            self.err(where, f"name {name!r} is empty or has surrounding whitespace")
        if not CJK_RE.search(name):
            self.err(where, f"name {name!r} contains no Chinese characters")
        if "(" in name or ")" in name:
            self.err(where, f"name {name!r} uses ASCII parentheses; use （）")
        if "  " in name or "\t" in name or "\n" in name:
            self.err(where, f"name {name!r} contains irregular whitespace")


def load_json(chk: Checker, path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        chk.err(path.name, f"cannot load JSON: {exc}")
        return None


def check_vocab(chk: Checker, data: object) -> dict[str, dict[str, dict]]:
    vocab: dict[str, dict[str, dict]] = {k: {} for k in VOCAB_SHAPE}
    if not isinstance(data, dict):
        chk.err(VOCAB_FILE, "top level must be an object")
        return vocab
    for key in data:
        if key not in VOCAB_SHAPE:
            chk.err(VOCAB_FILE, f"unknown top-level key '{key}'")
    for kind, shape in VOCAB_SHAPE.items():
        items = data.get(kind)
        if not isinstance(items, list) or not items:
            chk.err(VOCAB_FILE, f"'{kind}' must be a non-empty list")
            continue
        names: set[str] = set()
        for i, item in enumerate(items):
            where = f"{VOCAB_FILE} {kind}[{i}]"
            if not chk.check_shape(where, item, shape):
                continue
            code, name = item["code"], item["name"]
            chk.check_code(where, code)
            chk.check_name(where, name)
            if code in vocab[kind]:
                chk.err(where, f"duplicate {kind} code {code!r}")
            if name in names:
                chk.err(where, f"duplicate {kind} name {name!r}")
            names.add(name)
            vocab[kind][code] = item
    # grades: stage exists, positions unique and 1..n
    positions = []
    for code, g in vocab["grades"].items():
        if g["stage"] not in vocab["stages"]:
            chk.err(f"{VOCAB_FILE} grades {code}", f"unknown stage {g['stage']!r}")
        positions.append(g["position"])
    if sorted(positions) != list(range(1, len(positions) + 1)):
        chk.err(f"{VOCAB_FILE} grades", f"positions must be 1..{len(positions)}, got {sorted(positions)}")
    return vocab


def check_curriculum(chk: Checker, fname: str, data: object, vocab: dict,
                     seen: dict[str, dict[str, str]]) -> dict | None:
    if not isinstance(data, dict):
        chk.err(fname, "top level must be an object")
        return None
    for key in data:
        if key not in ("volumes", "chapters", "knowledge_points"):
            chk.err(fname, f"unknown top-level key '{key}'")
    lists = {}
    for key in ("volumes", "chapters", "knowledge_points"):
        value = data.get(key)
        if not isinstance(value, list) or not value:
            chk.err(fname, f"'{key}' must be a non-empty list")
            value = []
        lists[key] = value

    def register(kind: str, where: str, code: str) -> None:
        chk.check_code(where, code)
        if code in seen[kind]:
            chk.err(where, f"duplicate {kind} code {code!r} (first seen in {seen[kind][code]})")
        else:
            seen[kind][code] = fname

    # -- knowledge points --------------------------------------------------
    kps: dict[str, dict] = {}
    children: dict[str, list[str]] = defaultdict(list)
    sibling_names: dict[object, set[str]] = defaultdict(set)
    for i, kp in enumerate(lists["knowledge_points"]):
        where = f"{fname} knowledge_points[{i}]"
        if not chk.check_shape(where, kp, KP_SHAPE, KP_OPTIONAL):
            continue
        code = kp["code"]
        where = f"{where} ({code})"
        register("knowledge_point", where, code)
        chk.check_name(where, kp["name"])
        if kp["subject"] not in vocab["subjects"]:
            chk.err(where, f"unknown subject {kp['subject']!r}")
        if kp["stage"] not in vocab["stages"]:
            chk.err(where, f"unknown stage {kp['stage']!r}")
        if kp.get("edition") is not None and kp["edition"] not in vocab["editions"]:
            chk.err(where, f"unknown edition {kp['edition']!r}")
        prefix = KP_PREFIX.get((kp["subject"], kp["stage"]))
        if prefix and code != prefix and not code.startswith(prefix + "."):
            chk.err(where, f"code must start with {prefix!r}")
        parent = kp["parent"]
        if parent is not None:
            if parent not in kps:
                if any(isinstance(o, dict) and o.get("code") == parent
                       for o in lists["knowledge_points"]):
                    chk.err(where, f"parent {parent!r} appears after its child")
                else:
                    chk.err(where, f"parent {parent!r} does not exist in {fname}")
            else:
                p = kps[parent]
                if (p["subject"], p["stage"]) != (kp["subject"], kp["stage"]):
                    chk.err(where, f"subject/stage differ from parent {parent!r}")
                if not code.startswith(parent + "."):
                    chk.err(where, f"code does not extend parent code {parent!r}")
                children[parent].append(code)
        if kp["name"] in sibling_names[parent]:
            chk.err(where, f"name {kp['name']!r} is not unique among siblings of parent {parent!r}")
        sibling_names[parent].add(kp["name"])
        if code not in kps:
            kps[code] = kp
    for code, kp in kps.items():
        same_as = kp.get("same_as")
        if same_as is not None and same_as not in kps and same_as not in seen["knowledge_point"]:
            chk.err(f"{fname} knowledge point {code}", f"same_as {same_as!r} is not a known knowledge point")
        if same_as == code:
            chk.err(f"{fname} knowledge point {code}", "same_as points to itself")
    roots = [c for c, kp in kps.items() if kp["parent"] is None]
    if not roots:
        chk.err(fname, "no root knowledge point (parent null)")

    # -- volumes -------------------------------------------------------------
    volumes: dict[str, dict] = {}
    vol_keys: set[tuple] = set()
    for i, vol in enumerate(lists["volumes"]):
        where = f"{fname} volumes[{i}]"
        if not chk.check_shape(where, vol, VOLUME_SHAPE):
            # Remember the code anyway so chapters do not report cascading errors.
            if isinstance(vol, dict) and isinstance(vol.get("code"), str):
                volumes.setdefault(vol["code"], None)
            continue
        code = vol["code"]
        where = f"{where} ({code})"
        register("volume", where, code)
        chk.check_name(where, vol["name"])
        for ref, kind in (("edition", "editions"), ("subject", "subjects"), ("grade", "grades")):
            if vol[ref] not in vocab[kind]:
                chk.err(where, f"unknown {ref} {vol[ref]!r}")
        if vol["term"] not in TERM_SUFFIX:
            chk.err(where, f"term must be one of {sorted(TERM_SUFFIX)}, got {vol['term']}")
        elif vol["grade"] in vocab["grades"]:
            expected = vocab["grades"][vol["grade"]]["name"] + TERM_SUFFIX[vol["term"]]
            if vol["name"] != expected:
                chk.err(where, f"name {vol['name']!r} does not match grade/term (expected {expected!r})")
        key = (vol["edition"], vol["subject"], vol["grade"], vol["term"])
        if key in vol_keys:
            chk.err(where, f"duplicate volume for edition/subject/grade/term {key}")
        vol_keys.add(key)
        volumes[code] = vol

    # -- chapters ------------------------------------------------------------
    referenced: set[str] = set()
    positions: dict[str, list[int]] = defaultdict(list)
    chapter_names: dict[str, set[str]] = defaultdict(set)
    for i, ch in enumerate(lists["chapters"]):
        where = f"{fname} chapters[{i}]"
        if not chk.check_shape(where, ch, CHAPTER_SHAPE):
            continue
        code = ch["code"]
        where = f"{where} ({code})"
        register("chapter", where, code)
        chk.check_name(where, ch["name"])
        vol = volumes.get(ch["volume"])
        if ch["volume"] not in volumes:
            chk.err(where, f"unknown volume {ch['volume']!r}")
        elif vol is not None:
            if not code.startswith(ch["volume"] + "-"):
                chk.err(where, f"code should start with its volume code {ch['volume']!r}")
            positions[ch["volume"]].append(ch["position"])
            if ch["name"] in chapter_names[ch["volume"]]:
                chk.err(where, f"duplicate chapter name {ch['name']!r} in volume")
            chapter_names[ch["volume"]].add(ch["name"])
        refs = ch["knowledge_points"]
        if len(set(map(str, refs))) != len(refs):
            chk.err(where, "knowledge_points contains duplicates")
        for ref in refs:
            if not isinstance(ref, str):
                chk.err(where, f"knowledge point reference {ref!r} is not a string")
                continue
            kp = kps.get(ref)
            if kp is None:
                chk.err(where, f"unknown knowledge point {ref!r} (not defined in {fname})")
                continue
            referenced.add(ref)
            if vol is not None and vol["grade"] in vocab["grades"]:
                stage = vocab["grades"][vol["grade"]]["stage"]
                if (kp["subject"], kp["stage"]) != (vol["subject"], stage):
                    chk.err(where, f"knowledge point {ref!r} is {kp['subject']}/{kp['stage']}, "
                                   f"volume is {vol['subject']}/{stage}")
    for vcode, pos in positions.items():
        if sorted(pos) != list(range(1, len(pos) + 1)):
            chk.err(f"{fname} volume {vcode}", f"chapter positions must be 1..{len(pos)}, got {sorted(pos)}")
    for vcode, vol in volumes.items():
        if vol is not None and vcode not in positions:
            chk.err(f"{fname} volume {vcode}", "volume has no chapters")

    # -- coverage ------------------------------------------------------------
    leaves = [c for c in kps if not children.get(c)]
    for code in leaves:
        if code not in referenced:
            chk.err(f"{fname} knowledge point {code}", "leaf is not referenced by any chapter")

    minimum = MIN_KNOWLEDGE_POINTS.get(fname)
    if minimum is not None and len(kps) < minimum:
        chk.err(fname, f"expected at least {minimum} knowledge points, found {len(kps)}")

    return {
        "volumes": len(volumes),
        "chapters": len(lists["chapters"]),
        "knowledge_points": len(kps),
        "leaf_knowledge_points": len(leaves),
        "max_depth": max((c.count(".") for c in kps), default=0),
    }


def main(argv: list[str]) -> int:
    seed_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    chk = Checker()
    vocab_path = seed_dir / VOCAB_FILE
    vocab = check_vocab(chk, load_json(chk, vocab_path))
    print(f"{VOCAB_FILE}: " + ", ".join(f"{k}={len(v)}" for k, v in vocab.items()))

    curriculum_files = sorted(p for p in seed_dir.glob("*.json") if p.name != VOCAB_FILE)
    if not curriculum_files:
        chk.err(str(seed_dir), "no curriculum files found")
    for name in MIN_KNOWLEDGE_POINTS:
        if not (seed_dir / name).exists():
            chk.err(str(seed_dir), f"expected curriculum file {name} is missing")
    seen: dict[str, dict[str, str]] = {"volume": {}, "chapter": {}, "knowledge_point": {}}
    totals: Counter = Counter()
    for path in curriculum_files:
        data = load_json(chk, path)
        if data is None:
            continue
        counts = check_curriculum(chk, path.name, data, vocab, seen)
        if counts:
            print(f"{path.name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
            totals.update({k: v for k, v in counts.items() if k != "max_depth"})
    print("total: " + ", ".join(f"{k}={v}" for k, v in totals.items()))

    if chk.errors:
        print(f"\nFAILED: {len(chk.errors)} problem(s)", file=sys.stderr)
        for e in chk.errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
