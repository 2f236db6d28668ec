"""A small offline benchmark suite that generates its own data: European capital cities in four languages.

Three lm-eval tasks, about 48 documents each, deterministic for a given seed:

- ``lagc_capitals_mc``: pick the capital among four cities (multiple choice; acc, acc_norm).
- ``lagc_capitals_yesno``: "is X the capital of Y?" in the question's language (acc).
- ``lagc_capitals_gen``: write the capital's name (generate_until; exact_match).

The YAML files point at the data with ABSOLUTE paths, because lm-eval resolves relative ``data_files`` against
the working directory of the process, not against the YAML file.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Fact:
    """One country and its capital, as written in one language."""

    lang: str
    country: str
    capital: str


# (en, de, fr, it) names: country/capital.
_TABLE = (
    ("France/Paris", "Frankreich/Paris", "France/Paris", "Francia/Parigi"),
    ("Germany/Berlin", "Deutschland/Berlin", "Allemagne/Berlin", "Germania/Berlino"),
    ("Italy/Rome", "Italien/Rom", "Italie/Rome", "Italia/Roma"),
    ("Spain/Madrid", "Spanien/Madrid", "Espagne/Madrid", "Spagna/Madrid"),
    ("Portugal/Lisbon", "Portugal/Lissabon", "Portugal/Lisbonne", "Portogallo/Lisbona"),
    ("Austria/Vienna", "Österreich/Wien", "Autriche/Vienne", "Austria/Vienna"),
    ("Poland/Warsaw", "Polen/Warschau", "Pologne/Varsovie", "Polonia/Varsavia"),
    ("Czechia/Prague", "Tschechien/Prag", "Tchéquie/Prague", "Cechia/Praga"),
    ("Greece/Athens", "Griechenland/Athen", "Grèce/Athènes", "Grecia/Atene"),
    ("Ireland/Dublin", "Irland/Dublin", "Irlande/Dublin", "Irlanda/Dublino"),
    ("Belgium/Brussels", "Belgien/Brüssel", "Belgique/Bruxelles", "Belgio/Bruxelles"),
    ("Sweden/Stockholm", "Schweden/Stockholm", "Suède/Stockholm", "Svezia/Stoccolma"),
)
LANGS = ("en", "de", "fr", "it")

_MC_PROMPT = {
    "en": "Country: {country}\nCapital:",
    "de": "Land: {country}\nHauptstadt:",
    "fr": "Pays : {country}\nCapitale :",
    "it": "Paese: {country}\nCapitale:",
}
_YESNO_PROMPT = {
    "en": "Question: Is {capital} the capital of {country}?\nAnswer:",
    "de": "Frage: Ist {capital} die Hauptstadt von {country}?\nAntwort:",
    "fr": "Question : {capital} est-elle la capitale de {country} ?\nRéponse :",
    "it": "Domanda: {capital} è la capitale di {country}?\nRisposta:",
}
_YESNO_CHOICES = {"en": ["no", "yes"], "de": ["nein", "ja"], "fr": ["non", "oui"], "it": ["no", "sì"]}

TASK_NAMES = ("lagc_capitals_mc", "lagc_capitals_yesno", "lagc_capitals_gen")


def facts() -> list[Fact]:
    """All (language, country, capital) facts of the suite, in a fixed order."""
    out = []
    for row in _TABLE:
        for lang, cell in zip(LANGS, row):
            country, capital = cell.split("/")
            out.append(Fact(lang, country, capital))
    return out


def mc_docs(seed: int = 0) -> list[dict]:
    """Four-choice documents: the right capital and three others from the same language, shuffled."""
    rng = random.Random(f"mc-{seed}")
    all_facts = facts()
    docs = []
    for fact in all_facts:
        others = sorted({f.capital for f in all_facts if f.lang == fact.lang and f.capital != fact.capital})
        choices = rng.sample(others, 3) + [fact.capital]
        rng.shuffle(choices)
        docs.append(
            {
                "lang": fact.lang,
                "query": _MC_PROMPT[fact.lang].format(country=fact.country),
                "choices": choices,
                "label": choices.index(fact.capital),
            }
        )
    rng.shuffle(docs)
    return docs


def yesno_docs(seed: int = 0) -> list[dict]:
    """Yes/no documents; half of them (chosen by the seed) pair a country with a wrong capital."""
    rng = random.Random(f"yesno-{seed}")
    all_facts = facts()
    docs = []
    for fact in all_facts:
        truthful = rng.random() < 0.5
        capital = fact.capital
        if not truthful:
            capital = rng.choice(sorted({f.capital for f in all_facts if f.lang == fact.lang} - {fact.capital}))
        docs.append(
            {
                "lang": fact.lang,
                "query": _YESNO_PROMPT[fact.lang].format(capital=capital, country=fact.country),
                "choices": _YESNO_CHOICES[fact.lang],
                "label": int(truthful),
            }
        )
    rng.shuffle(docs)
    return docs


def gen_docs(seed: int = 0) -> list[dict]:
    """Free-generation documents: the model must write the capital's name."""
    rng = random.Random(f"gen-{seed}")
    docs = [
        {"lang": f.lang, "query": _MC_PROMPT[f.lang].format(country=f.country), "answer": f.capital} for f in facts()
    ]
    rng.shuffle(docs)
    return docs


def task_configs(data_dir: Path) -> dict[str, dict]:
    """The lm-eval task configuration of each task, with absolute data paths under data_dir."""
    data_dir = data_dir.resolve()

    def base(name: str, output_type: str) -> dict:
        return {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(data_dir / f"{name}.jsonl")}},
            "test_split": "test",
            "output_type": output_type,
            "doc_to_text": "{{query}}",
            "metadata": {"version": 1.0},
        }

    acc = {"metric": "acc", "aggregation": "mean", "higher_is_better": True}
    acc_norm = {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}
    exact = {
        "metric": "exact_match",
        "aggregation": "mean",
        "higher_is_better": True,
        "ignore_case": True,
        "ignore_punctuation": True,
        "regexes_to_ignore": ["^\\s+", "\\s+$"],
    }
    choice = {"doc_to_choice": "{{choices}}", "doc_to_target": "label"}
    return {
        "lagc_capitals_mc": {**base("lagc_capitals_mc", "multiple_choice"), **choice, "metric_list": [acc, acc_norm]},
        "lagc_capitals_yesno": {**base("lagc_capitals_yesno", "multiple_choice"), **choice, "metric_list": [acc]},
        "lagc_capitals_gen": {
            **base("lagc_capitals_gen", "generate_until"),
            "doc_to_target": "{{answer}}",
            "generation_kwargs": {"until": ["\n"], "max_gen_toks": 8, "do_sample": False},
            "metric_list": [exact],
        },
    }


def write_suite(out_dir: str | Path, seed: int = 0) -> list[str]:
    """Write the suite's jsonl data and lm-eval YAML files to out_dir; return the task names.

    Pass out_dir to lm-eval as ``--include_path``. The same seed always writes the same bytes.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "lagc_capitals_mc": mc_docs(seed),
        "lagc_capitals_yesno": yesno_docs(seed),
        "lagc_capitals_gen": gen_docs(seed),
    }
    for name, config in task_configs(out).items():
        lines = (json.dumps(doc, ensure_ascii=False, sort_keys=True) for doc in data[name])
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (out / f"{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return list(TASK_NAMES)
