"""UIE span decoding as PaddleNLP Taskflow does it, as small pure functions.

Per (prompt, text) window: token positions whose start/end probability exceeds a threshold, starts paired
with ends, token pairs turned into character spans (negative for spans inside the prompt: classification
answers), spans turned into results, and the windows of one text joined back (spans shifted by the length
of the windows before them; classification answers put to a majority vote).
"""

from __future__ import annotations

from collections.abc import Sequence

# (token index, probability)
Position = tuple[int, float]


def positions_above(probabilities: Sequence[float], threshold: float = 0.5) -> list[Position]:
    """Token positions whose probability is strictly above `threshold`, in order."""
    return [(index, probability) for index, probability in enumerate(probabilities) if probability > threshold]


def pair_positions(starts: Sequence[Position], ends: Sequence[Position]) -> set[tuple[Position, Position]]:
    """Pair starts with ends as Taskflow's `get_span` does.

    Walking both in order, each end takes the latest start at or before it that no earlier end has taken;
    an end with no such start, and starts left over, are dropped. Returned as a set, like Taskflow (its
    iteration order is the order of Taskflow's results).
    """
    starts, ends = sorted(starts, key=lambda p: p[0]), sorted(ends, key=lambda p: p[0])
    pairs: dict[Position, Position] = {}
    start_index = end_index = 0
    while start_index < len(starts) and end_index < len(ends):
        start, end = starts[start_index][0], ends[end_index][0]
        if start <= end:
            pairs[ends[end_index]] = starts[start_index]
            start_index += 1
            end_index += start == end
        else:
            end_index += 1
    return {(start, end) for end, start in pairs.items()}


def within_segments(
    pairs: set[tuple[Position, Position]], offsets: Sequence[tuple[int, int]]
) -> set[tuple[Position, Position]]:
    """The pairs that start and end inside the prompt, or inside the text, of a `[CLS] prompt [SEP] [SEP] text
    [SEP] [PAD]...` window. (Taskflow keeps pairs on special tokens, whose (0, 0) offsets make empty spans,
    spans ending before they start, or spans from the text's first character.)"""
    offsets = list(map(tuple, offsets))
    first_sep = offsets.index((0, 0), 1)
    text_end = offsets.index((0, 0), first_sep + 2) if (0, 0) in offsets[first_sep + 2 :] else len(offsets)
    segments = (range(1, first_sep), range(first_sep + 2, text_end))
    return {pair for pair in pairs if any(pair[0][0] in segment and pair[1][0] in segment for segment in segments)}


def character_spans(
    pairs: set[tuple[Position, Position]], offsets: Sequence[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[float]]:
    """Character spans and probabilities (start probability × end probability) of token pairs.

    `offsets` are the window's `[CLS] prompt [SEP] [SEP] text [SEP]` offsets, each sequence's relative to
    itself. As in Taskflow's `get_id_and_prob`, prompt offsets are moved below zero by the prompt's length
    plus one, so a span inside the prompt comes out negative.
    """
    prompt_end = list(map(tuple, offsets[1:])).index((0, 0))  # the prompt's last token (in `offsets`: +1)
    shift = offsets[prompt_end][1] + 1
    shifted = [
        (start - shift, end - shift) if 1 <= index <= prompt_end else (start, end)
        for index, (start, end) in enumerate(offsets)
    ]
    spans, probabilities = [], []
    for (start, start_probability), (end, end_probability) in pairs:
        probabilities.append(start_probability * end_probability)
        spans.append((shifted[start][0], shifted[end][1]))
    return spans, probabilities


def window_spans(
    start_probabilities: Sequence[float],
    end_probabilities: Sequence[float],
    offsets: Sequence[tuple[int, int]],
    threshold: float = 0.5,
) -> tuple[list[tuple[int, int]], list[float]]:
    """A window's character spans and probabilities from its tokens' start and end probabilities: positions above
    `threshold`, paired, kept inside the prompt or inside the text, turned into characters. Probabilities past
    `offsets` (padding) are ignored."""
    length = len(offsets)
    pairs = pair_positions(
        positions_above(start_probabilities[:length], threshold), positions_above(end_probabilities[:length], threshold)
    )
    return character_spans(within_segments(pairs, offsets), offsets)


def window_results(
    text: str, prompt: str, spans: Sequence[tuple[int, int]], probabilities: Sequence[float]
) -> list[dict]:
    """Taskflow's results for one window: text spans with offsets, prompt spans as classification answers.

    A span that starts in the prompt and ends in the text is dropped.
    """
    results = []
    for (start, end), probability in zip(spans, probabilities, strict=True):
        if start < 0 and end >= 0:
            continue
        if end < 0:
            shift = len(prompt) + 1
            results.append({"text": prompt[start + shift : end + shift], "probability": probability})
        else:
            results.append({"text": text[start:end], "start": start, "end": end, "probability": probability})
    return results


def join_windows(
    windows: Sequence[list[dict]],
    window_texts: Sequence[str],
    mapping: dict[int, list[int]],
    classification: bool | None = None,
) -> list[list[dict]]:
    """Join each text's window results, as Taskflow's `_auto_joiner`.

    `mapping` maps a text's index to the indices of its windows, in order. Spans are shifted by the lengths
    of the windows before theirs. When the first non-empty window result is a classification answer (no
    offsets), each text's answer is the one most windows chose, ties broken by the larger summed
    probability; its probability is the mean over those windows. Pass `classification` to decide from the
    schema instead (Taskflow's test depends on which result its span set yields first).
    """
    if classification is None:
        classification = next((("start" not in found[0]) for found in windows if found), False)
    joined = []
    for indices in mapping.values():
        if classification:
            votes: dict[str, list] = {}
            for index in indices:
                if windows[index]:
                    answer = windows[index][0]
                    count, total = votes.get(answer["text"], (0, 0.0))
                    votes[answer["text"]] = (count + 1, total + answer["probability"])
            if votes:
                text, (count, total) = max(votes.items(), key=lambda item: item[1])
                joined.append([{"text": text, "probability": total / count}])
            else:
                joined.append([])
            continue
        offset, results = 0, []
        for index in indices:
            for result in windows[index]:
                if "start" in result and offset:
                    result = {**result, "start": result["start"] + offset, "end": result["end"] + offset}
                results.append(result)
            offset += len(window_texts[index])
        joined.append(results)
    return joined
