"""Synthetic resources for the search benchmark, from the seed taxonomy.

    .venv/bin/python bench/search_corpus.py --docs 100000      # writes (or reuses) the cache, prints a sample

Every resource is built from the seed taxonomy the demo district uses
(services/api/taxonomy/seed/: primary mathematics and junior physics, 人教版): a knowledge point
and its chapter, volume, grade and subject, then a title, a description and about 400 characters
of extracted text (a document's pages or a recording's transcript) from templates and a pool of
sentences that name the knowledge point, its neighbours in the chapter, the chapter and the grade.
About 8 % are other subjects without knowledge points. Visibility, schools (two districts),
owners, kinds, durations, dates and views are mixed as a district's would be.

Resource `i` depends only on (seed, i), so the first N of a larger corpus are the corpus of N.
The corpus is cached as JSON lines under bench/work/ (`search-corpus-v<V>-seed<S>-<N>.jsonl`);
generating 100,000 takes a few seconds, reading them back about as long.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.search.relevance.evaluate import taxonomy

WORK_DIR = REPO_ROOT / "bench" / "work"
VERSION = 1  # bump when the generator changes: the cache key changes with it
DEFAULT_SEED = 20261124
TEXT_CHARS = 400  # extracted text per resource, about

# The benchmark's district: 40 schools, two of them the searching teacher's partners; a
# neighbouring district whose resources are only visible when public.
DISTRICT, OTHER_DISTRICT = "d-bench", "d-other"
SCHOOLS = [f"s-{n:02d}" for n in range(1, 41)]
OTHER_SCHOOLS = [f"s-x{n:02d}" for n in range(1, 11)]
_PLACES = ["青山区", "河湾镇", "白云山", "东城区", "西坝乡", "南湖区", "北岭镇", "柳溪村", "石桥镇", "江滨区"]
_SCHOOL_KINDS = ["实验小学", "中心学校", "第一中学", "第二小学", "民族中学", "教学点", "育才学校", "九年一贯制学校"]
SCHOOL_NAMES = {code: _PLACES[i % len(_PLACES)] + _SCHOOL_KINDS[(i * 3) % len(_SCHOOL_KINDS)]
                for i, code in enumerate(SCHOOLS + OTHER_SCHOOLS)}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"

KINDS = [("courseware", 34), ("lesson_plan", 16), ("exercise", 18), ("micro_lesson", 14),
         ("lesson_recording", 10), ("excellent_lesson", 5), ("other", 3)]
VISIBILITY = [("public", 30), ("district", 35), ("school", 15), ("paired", 10), ("private", 10)]
LICENSES = ["cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nd-4.0"]
T0 = datetime(2026, 11, 1, tzinfo=UTC)

KIND_WORDS = {"courseware": ["课件", "PPT课件", "教学课件", "新授课件"], "lesson_plan": ["教学设计", "教案", "说课稿"],
              "exercise": ["练习题", "分层作业", "同步练习", "课时作业（含答案）"],
              "micro_lesson": ["微课", "微课视频", "知识点微课"], "lesson_recording": ["课堂实录", "公开课实录"],
              "excellent_lesson": ["一师一优课", "优质课"], "other": ["学习单", "导学案", "素材"]}
TAGS = ["PPT", "公开课", "优质课", "新课标", "核心素养", "大单元教学", "分层作业", "期末复习", "单元整体教学",
        "情境教学", "小组合作", "翻转课堂", "双减", "易错题", "思维导图", "板书设计"]

TITLES = [
    "{kp} {kw}", "{kp} 第{n}课时 {kw}", "《{kp}》{kw}", "{chapter}——{kp} {kw}", "人教版{volume} {kp} {kw}",
    "{grade}{subject} {kp}", "{kp}（{kw}）", "{chapter} {kp}与{kp2}", "{kp} 复习课 {kw}", "{edition}{volume}《{chapter}》{kw}",
]
DESCRIPTIONS = [
    "本节课围绕“{kp}”展开，{verb}，帮助学生理解{kp2}。",
    "{grade}{subject}{chapter}单元的{kw}，重点是{kp}，难点是{kp2}。",
    "适用于人教版{volume}第{pos}单元《{chapter}》，含{kp}的例题讲解与课堂练习。",
    "通过{activity}，引导学生经历{kp}的探究过程，{verb}。",
    "{kp}{kw}，配套板书与课后作业，可直接用于课堂教学。",
]
VERBS = ["从生活情境引入", "动手操作、合作交流", "在观察和比较中发现规律", "用画图的方法分析问题", "联系已学知识迁移",
         "借助多媒体演示", "设置梯度问题层层推进", "注重说理和表达"]
ACTIVITIES = ["小组合作", "动手实践", "情境创设", "自主探究", "观察实验", "游戏闯关", "对比辨析"]
SENTENCES = {
    "common": [
        "教学目标：理解{kp}的含义，能运用{kp}解决简单的实际问题。",
        "教学重点：{kp}。教学难点：{kp2}。",
        "导入：同学们，上节课我们学习了{kp2}，今天我们继续学习{kp}。",
        "请同学们打开课本，看第{page}页的情境图，说一说你发现了什么。",
        "小组讨论：怎样理解{kp}？把你的想法和同桌说一说。",
        "课堂小结：这节课你有什么收获？我们知道了{kp}，还学会了{kp2}。",
        "布置作业：完成练习{n}第{page}题，预习{chapter}的下一课。",
        "板书设计：{chapter}——{kp}，{kp2}。",
        "易错点提醒：不要把{kp}和{kp2}混淆，做题前先读清题目要求。",
        "拓展延伸：生活中哪些地方用到了{kp}？课后找一找，下节课交流。",
        "本单元《{chapter}》是第{pos}单元，本课是第{n}课时。",
        "教学反思：学生对{kp}掌握较好，但在{kp2}上还需要加强练习。",
        "评价任务：能说出{kp}的要点，能独立完成{n}道基础练习。",
        "学情分析：{grade}学生已经学过{kp2}，具备一定的观察和表达能力。",
    ],
    "math": [
        "例{n}：一个长方形花坛长{a}米，宽{b}米，它的面积是多少平方米？",
        "做一做：{a}＋{b}＝？{a}×{b}＝？说说你是怎样算的。",
        "想一想：用{kp}的方法计算，比直接计算简便在哪里？",
        "摆一摆，画一画，用小棒和图示表示{kp}的过程。",
        "练习：小明有{a}元，买了{b}元的文具，还剩多少元？",
        "观察下面的算式，你能发现什么规律？",
    ],
    "physics": [
        "实验器材：铁架台、弹簧测力计、刻度尺、烧杯和水。",
        "进行实验：按照电路图连接电路，闭合开关前滑动变阻器的滑片应置于阻值最大处。",
        "分析论证：根据实验数据，画出相应的图像，得出{kp}的结论。",
        "例{n}：一辆汽车以{a}米每秒的速度匀速行驶{b}秒，求通过的路程。",
        "演示实验：观察现象，思考{kp}与{kp2}之间的关系。",
        "交流评估：实验中可能存在哪些误差？如何减小误差？",
        "物理与生活：用{kp}解释生活中的现象。",
    ],
    "other": [
        "课文朗读：正确、流利、有感情地朗读课文，背诵第{n}自然段。",
        "识字写字：认识{a}个生字，会写{b}个字，注意笔顺。",
        "Let's talk: read the dialogue and act it out with your partner.",
        "欣赏与表现：聆听歌曲，用打击乐器为歌曲伴奏。",
        "综合实践：走进社区，调查身边的垃圾分类情况。",
    ],
}
OTHER_SUBJECTS = {
    "chinese": ["《春》朗读指导", "《小蝌蚪找妈妈》", "看图写话", "古诗二首", "《草船借箭》", "口语交际：请教", "习作：我的植物朋友"],
    "english": ["Unit 1 Hello!", "Unit 3 My friends", "Unit 5 Dinner's ready", "Module 2 My family", "Phonics 字母组合"],
    "music": ["《小青蛙找家》", "《茉莉花》", "音乐欣赏：《彼得与狼》"],
    "art": ["画一画我的家", "剪纸：窗花", "色彩的冷暖"],
    "morality_law": ["安全记心上", "我们的班规", "爱护环境 从我做起"],
    "pe": ["立定跳远", "跳绳", "队列队形"],
}


def _weighted(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], list(_cumulative([p[1] for p in pairs]))


def _cumulative(weights: list[int]) -> Iterator[int]:
    total = 0
    for w in weights:
        total += w
        yield total


_KIND_NAMES, _KIND_CUM = _weighted(KINDS)
_VIS_NAMES, _VIS_CUM = _weighted(VISIBILITY)


class Generator:
    """Resource `i` of the corpus with seed `seed`, as a SearchDocument-shaped dict."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.seed = seed
        tax = taxonomy()
        self.tax = tax
        # Leaves that a chapter teaches: what teachers tag resources with.
        self.leaves = sorted((kp, chapters[0]) for kp, chapters in tax.chapters_of_kp.items())
        self.chapter_kps = {code: ch["knowledge_points"] for code, ch in tax.chapters.items()}
        self.ancestry_names = {kp: [tax.knowledge_points[c]["name"] for c in tax.ancestry[kp]] for kp, _ in self.leaves}
        self.grade_names = {code: g["name"] for code, g in tax.grades.items()}

    def document(self, i: int) -> dict:
        rng = random.Random(self.seed * 1_000_003 + i)
        r = rng.random
        kind = rng.choices(_KIND_NAMES, cum_weights=_KIND_CUM)[0]
        in_district = r() < 0.9
        school = rng.choice(SCHOOLS) if in_district else rng.choice(OTHER_SCHOOLS)
        visibility = rng.choices(_VIS_NAMES, cum_weights=_VIS_CUM)[0]
        owner = f"u-{school}-{rng.randrange(12):02d}"
        doc = {
            "id": f"r{self.seed % 1000:03d}-{i:07d}", "version": 1, "live": True, "kind": kind,
            "school_id": school, "school_name": SCHOOL_NAMES[school], "owner_id": owner,
            "owner_name": rng.choice(SURNAMES) + "老师", "district_id": DISTRICT if in_district else OTHER_DISTRICT,
            "visibility": visibility, "license": rng.choice(LICENSES),
            "published_at": (T0 - timedelta(seconds=rng.randrange(3 * 365 * 86400))).isoformat(),
            "views": int(rng.paretovariate(1.2) * 10) - 10,
        }
        if kind in ("micro_lesson", "lesson_recording", "excellent_lesson"):
            doc["duration_s"] = float(rng.randrange(180, 900) if kind == "micro_lesson" else rng.randrange(1800, 3000))
        if r() < 0.08:
            return self._other_subject(doc, rng)
        kp, chapter_code = rng.choice(self.leaves)
        chapter = self.tax.chapters[chapter_code]
        volume = self.tax.volumes[chapter["volume"]]
        siblings = [k for k in self.chapter_kps[chapter_code] if k != kp] or [kp]
        kp2 = rng.choice(siblings)
        kps = [kp, kp2] if kp2 != kp and r() < 0.15 else [kp]
        names = {"kp": self.tax.knowledge_points[kp]["name"], "kp2": self.tax.knowledge_points[kp2]["name"],
                 "chapter": chapter["name"], "volume": volume["name"], "grade": self.grade_names[volume["grade"]],
                 "subject": self.tax.subjects[volume["subject"]], "edition": "人教版", "pos": chapter["position"]}
        subject_pool = "math" if volume["subject"] == "math" else "physics"
        doc.update(self._texts(rng, kind, names, subject_pool))
        ancestry = list(dict.fromkeys(step for k in kps for step in self.tax.ancestry[k]))
        doc.update({
            "subject": volume["subject"], "stage": self.tax.grades[volume["grade"]]["stage"], "grade": volume["grade"],
            "edition": volume["edition"], "volume": volume["code"], "chapter": chapter_code,
            "chapter_name": chapter["name"], "knowledge_points": kps, "knowledge_point_ancestry": ancestry,
            "knowledge_point_names": [self.tax.knowledge_points[c]["name"] for c in ancestry],
        })
        return doc

    def _texts(self, rng: random.Random, kind: str, names: dict, pool: str) -> dict:
        kw = rng.choice(KIND_WORDS[kind])
        fill = {**names, "kw": kw, "n": rng.randrange(1, 9), "verb": rng.choice(VERBS),
                "activity": rng.choice(ACTIVITIES)}
        title = rng.choice(TITLES).format(**fill)
        description = "".join(rng.choice(DESCRIPTIONS).format(**fill) for _ in range(rng.randrange(1, 3)))
        tags = rng.sample(TAGS, rng.randrange(0, 4))
        return {"title": title, "description": description, "tags": tags,
                "pages": self._pages(rng, fill, SENTENCES["common"] + SENTENCES[pool])}

    def _pages(self, rng: random.Random, fill: dict, pool: list[str]) -> list[dict]:
        target = rng.randrange(TEXT_CHARS - 50, TEXT_CHARS + 50)
        pages, current, total = [], [], 0
        per_page = target // rng.randrange(1, 4) + 1
        order: list[str] = []
        while total < target:
            if not order:  # each sentence once before any repeats
                order = rng.sample(pool, len(pool))
            b = rng.randrange(2, 60)
            sentence = order.pop().format(**fill, page=rng.randrange(2, 120), a=b + rng.randrange(2, 40), b=b)
            current.append(sentence)
            total += len(sentence)
            if sum(map(len, current)) >= per_page:
                pages.append("".join(current))
                current = []
        if current:
            pages.append("".join(current))
        return [{"number": n, "text": text} for n, text in enumerate(pages, 1)]

    def _other_subject(self, doc: dict, rng: random.Random) -> dict:
        subject = rng.choice(list(OTHER_SUBJECTS))
        grade = rng.choice(["g1", "g2", "g3", "g4", "g5", "g6"])
        topic = rng.choice(OTHER_SUBJECTS[subject])
        kw = rng.choice(KIND_WORDS[doc["kind"]])
        fill = {"kp": topic, "kp2": topic, "chapter": topic, "n": rng.randrange(1, 9)}
        doc.update({"title": f"{topic} {kw}", "description": f"{self.grade_names[grade]}{topic}{kw}。",
                    "tags": rng.sample(TAGS, rng.randrange(0, 3)), "subject": subject, "stage": "primary",
                    "grade": grade, "pages": self._pages(rng, fill, SENTENCES["other"] + SENTENCES["common"][:4]),
                    "knowledge_points": [], "knowledge_point_ancestry": [], "knowledge_point_names": []})
        return doc


def cache_path(docs: int, seed: int) -> Path:
    return WORK_DIR / f"search-corpus-v{VERSION}-seed{seed}-{docs}.jsonl"


def ensure_corpus(docs: int, seed: int = DEFAULT_SEED, *, say=lambda _m: None) -> tuple[Path, int]:
    """The cached corpus of at least `docs` resources (a larger cache serves a smaller run:
    its first lines are the same), and how many it holds. Generates it when missing."""
    for candidate in sorted(WORK_DIR.glob(f"search-corpus-v{VERSION}-seed{seed}-*.jsonl")):
        held = int(candidate.stem.rsplit("-", 1)[1])
        if held >= docs:
            return candidate, held
    path = cache_path(docs, seed)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    generator = Generator(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        out.writelines(orjson.dumps(generator.document(i)) + b"\n" for i in range(docs))
    tmp.replace(path)
    say(f"generated {docs:,} resources in {time.perf_counter() - started:.1f}s -> {path.relative_to(REPO_ROOT)}")
    return path, docs


def read_batches(path: Path, docs: int, batch: int, *, start: int = 0) -> Iterator[list[dict]]:
    """Resources `start` to `start + docs` of a cached corpus, as lists of `batch` dicts."""
    out: list[dict] = []
    with open(path, "rb") as f:
        for n, line in enumerate(f):
            if n < start:
                continue
            if n >= start + docs:
                break
            out.append(orjson.loads(line))
            if len(out) == batch:
                yield out
                out = []
    if out:
        yield out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    path, held = ensure_corpus(args.docs, args.seed, say=print)
    print(f"{path} holds {held:,} resources")
    for batch in read_batches(path, 3, 3):
        for doc in batch:
            print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
