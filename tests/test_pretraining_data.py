"""The pretraining collators and data streams: layouts, masking statistics, languages, sharding and mixing."""

import gzip
import itertools

import pytest
import torch
from tests.stub_tokenizer import StubTokenizer as Stub

from erniem.pretraining import BTMLMCollator, CAMLMCollator, MaskingOptions, MixedBatches, MMLMCollator, TLMCollator
from erniem.pretraining.data import monolingual_sentences, parallel_pairs


def test_mmlm_chooses_the_rate_and_follows_80_10_10():
    collator = MMLMCollator(Stub(), max_length=202)
    generator = torch.Generator().manual_seed(0)
    words = list(range(4, 98)) * 2  # 188 words, all regular
    batch = collator([{"input_ids": words}] * 200, generator)
    labels, ids = batch["labels"], batch["input_ids"]
    chosen = labels != -100
    assert torch.equal(chosen.sum(1), torch.full((200,), round(0.15 * 188)))  # 28 per sentence
    assert not chosen[:, 0].any() and not chosen[:, -1].any()  # never [CLS] or [SEP]
    original = torch.tensor([0, *words, 2])
    assert torch.equal(labels[chosen], original.expand(200, -1)[chosen])
    assert torch.equal(ids[~chosen], original.expand(200, -1)[~chosen])  # the others untouched
    masked = (ids[chosen] == 98).float().mean()
    kept = (ids[chosen] == labels[chosen]).float().mean()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1 - 0.1 / 95) < 0.015  # a random token may be the same
    random_tokens = ids[chosen][(ids[chosen] != 98) & (ids[chosen] != labels[chosen])]
    assert not torch.isin(random_tokens, torch.tensor(Stub.all_special_ids)).any()


def test_pair_layout_positions_languages_and_truncation():
    example = {"source_ids": list(range(10, 40)), "target_ids": [50, 51], "source_language": "en",
               "target_language": "de"}  # fmt: skip
    collator = TLMCollator(Stub(), max_length=16, languages=["de", "en"], pair_positions="restart")
    batch = collator([example], torch.Generator().manual_seed(0))
    ids = batch["input_ids"][0]
    assert len(ids) == 16  # 30 + 2 words cut to 10 + 2 with the four special tokens
    expected = [0, *range(10, 20), 2, 2, 50, 51, 2]
    assert torch.equal(torch.where(batch["labels"][0] != -100, batch["labels"][0], ids), torch.tensor(expected))
    assert batch["position_ids"][0].tolist() == [*range(12), 0, 1, 2, 3]
    assert batch["language_ids"][0].tolist() == [1] * 12 + [0] * 4
    with pytest.raises(ValueError, match="'fr' has no language embedding"):
        collator([{**example, "target_language": "fr"}])
    continuous = TLMCollator(Stub(), max_length=16)([example], torch.Generator().manual_seed(0))
    assert continuous["position_ids"][0].tolist() == list(range(16)) and "language_ids" not in continuous


def test_camlm_batch_masks_follow_the_chosen_positions():
    example = {"source_ids": list(range(10, 30)), "target_ids": list(range(40, 60))}
    batch = CAMLMCollator(Stub(), max_length=64)([example, {**example, "target_ids": [41]}])
    mask, labels = batch["attention_mask"], batch["labels"]
    for row in range(2):
        masked = (labels[row] != -100).nonzero().squeeze(1)
        for position in masked:  # a masked token sees its own side's masks, never its own side's words
            own_side = slice(0, 22) if position < 22 else slice(22, None)
            own_keys = mask[row, position, own_side]
            own_masked = labels[row, own_side] != -100
            assert torch.equal(own_keys[own_keys.nonzero().squeeze(1)], own_masked[own_keys.nonzero().squeeze(1)])
    padding = batch["input_ids"][1] == 1
    assert padding.any() and not mask[1][:, padding][~padding].any()


def test_btmlm_placeholders_and_target_language():
    collator = BTMLMCollator(Stub(), max_length=32, languages=["en", "de", "fr"])
    batch = collator([{"input_ids": list(range(10, 50)), "language": "en"}], torch.Generator().manual_seed(0))
    placeholders = batch["placeholder_mask"][0]
    assert placeholders.sum() == 14 and len(batch["input_ids"][0]) == 32  # (32 - 4) // 2 words, as many slots
    assert torch.equal(batch["pseudo_input_ids"][0][placeholders], torch.full((14,), 98))
    assert (batch["labels"][0][15:] == -100).all()  # only the sentence's words are predicted
    assert int(batch["language_ids"][0][-1]) in {1, 2}
    drawn = set()
    for seed in range(20):
        out = collator([{"input_ids": [10, 11], "language": "en"}], torch.Generator().manual_seed(seed))
        drawn.add(int(out["language_ids"][0][-1]))
    assert drawn == {1, 2}  # never the sentence's own
    fixed = BTMLMCollator(Stub(), max_length=32, placeholders=5)([{"input_ids": list(range(10, 50))}])
    assert fixed["placeholder_mask"][0].sum() == 5 and len(fixed["input_ids"][0]) == 32
    with pytest.raises(ValueError, match="placeholders must lie"):
        BTMLMCollator(Stub(), max_length=32, placeholders=40)


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_corpus_files(tmp_path):
    plain = write(tmp_path / "de.txt", ["Hallo Welt", "", "  ", "Zweite Zeile"])
    assert list(monolingual_sentences(f"de={plain}")) == [
        {"text": "Hallo Welt", "language": "de"},
        {"text": "Zweite Zeile", "language": "de"},
    ]
    tsv = tmp_path / "mixed.tsv.gz"
    with gzip.open(tsv, "wt", encoding="utf-8") as stream:
        stream.write("lang\tsource\ttext\nen\tx\tHello\nfr\tx\tBonjour\n")
    assert [s["language"] for s in monolingual_sentences(str(tsv))] == ["en", "fr"]
    pairs = write(tmp_path / "pairs.tsv", ["source_language\ttarget_language\tsource\ttarget", "en\tde\tYes\tJa"])
    assert list(parallel_pairs(pairs)) == [
        {"source": "Yes", "target": "Ja", "source_language": "en", "target_language": "de"}
    ]
    bad = write(tmp_path / "bad.tsv", ["src\ttgt", "a\tb"])
    with pytest.raises(ValueError, match="no source, target column"):
        list(parallel_pairs(bad))
    with pytest.raises(FileNotFoundError):
        list(monolingual_sentences(str(tmp_path / "missing.txt")))


def stream(tmp_path, weights, **options):
    mono = write(tmp_path / "mono.txt", [f"{n} {n + 1}" for n in range(10, 90)])
    pairs = write(tmp_path / "pairs.tsv", ["source\ttarget", *[f"{n}\t{n + 1}" for n in range(10, 90)]])
    collators = {"mmlm": MMLMCollator(Stub()), "tlm": TLMCollator(Stub()), "btmlm": BTMLMCollator(Stub())}
    return MixedBatches(Stub(), collators, weights, [mono], [pairs], batch_size=4, **options)


def first_words(batches, count):
    return [int(ids[1]) for batch in itertools.islice(batches, count) for ids in batch["pseudo_input_ids"]]


def test_processes_read_disjoint_shares_of_the_stream(tmp_path):
    shares = []
    for index in range(2):
        dataset = stream(tmp_path, {"btmlm": 1.0}, shuffle_buffer=1, seed=0)
        dataset.shard(index, 2)
        shares.append(first_words(iter(dataset), 10))  # 40 sentences: this share, once
    assert set(shares[0]).isdisjoint(shares[1])
    assert sorted(shares[0] + shares[1]) == list(range(10, 90))


def test_objectives_are_drawn_by_weight_and_the_stream_is_reproducible(tmp_path):
    dataset = stream(tmp_path, {"mmlm": 3.0, "tlm": 1.0}, seed=5)
    objectives = [batch["objective"] for batch in itertools.islice(iter(dataset), 400)]
    assert 0.70 < objectives.count("mmlm") / 400 < 0.80
    again = [batch["objective"] for batch in itertools.islice(iter(dataset), 400)]
    assert again == objectives
    first, second = next(iter(dataset)), next(iter(dataset))
    assert all(torch.equal(first[k], second[k]) for k in first if k != "objective")


def test_mixed_batches_refuse_an_objective_without_its_corpus(tmp_path):
    with pytest.raises(ValueError, match="The tlm objective needs parallel files"):
        MixedBatches(Stub(), {"tlm": TLMCollator(Stub())}, {"tlm": 1.0}, monolingual=["x.txt"])
    with pytest.raises(ValueError, match="must be positive"):
        MixedBatches(Stub(), {"mmlm": MMLMCollator(Stub())}, {"mmlm": 0.0}, monolingual=["x.txt"])
    with pytest.raises(ValueError, match="masking rate"):
        MaskingOptions(rate=0.0)
