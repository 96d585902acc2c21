"""The contradiction check: a claim that a source sentence about the same thing negates is not shown.

Support counts the claim's words a passage holds, and negation words are stop words, so "Charap thinks
Putin is ready to negotiate" scores high against "I don't think he's ready,' said Samuel Charap", and
"the Kremlin considers Zelensky a legitimate leader" against "The Kremlin insists he's an illegitimate
leader". No NLI model ships inside a PyPI package here, so this is a rule, kept narrow: the claim has no
negative word of its own; the source sentence holds most of its content words, every one of its numbers
and one of its names; and there it negates one of the claim's words ("not", "n't", "never" before it,
the first content word within three, "not opposed" aside, said of the claim's first name or of no other
name of it) or holds its opposite formed with a prefix ("illegitimate" for "legitimate").
"""

from __future__ import annotations

from collections.abc import Iterable

from qa_bot.answer import entities as entity_rules
from qa_bot.text import STOPWORDS, content_stems, numbers, words

# what negates a verb or adjective in a source sentence ("no mention" negates a noun the claim may paraphrase
# negatively: "left out the mention" -- so only verbal negation counts)
VERBAL = frozenset({"not", "never", "cannot"})
NEGATIONS = VERBAL | frozenset({"no", "neither", "nor", "none", "nothing", "nobody", "without"})
# a claim holding one of these says something negative itself: paraphrase of a negation is left to support
NEGATIVE = NEGATIONS | frozenset(
    """unlikely unable unwilling impossible refuse refused refuses refusing decline declined declines declining
    reject rejected rejects deny denied denies little hardly barely rarely seldom few against lack lacks lacked
    fail failed fails doubt doubts doubted doubtful false neither instead rather than only opposed averse""".split()
)
_NOT_NEGATING = frozenset({"only", "just", "merely", "simply", "least"})  # "not only ... but also"
_OPPOSITE = ("il", "un", "in", "im", "ir", "non", "dis")
MIN_OVERLAP = 0.6


def _tokens(text: str) -> list[str]:
    """Words with "n't" split off as "not": "don't" -> "do", "not"."""
    out: list[str] = []
    for w in words(text):
        if w.endswith("n't") and len(w) > 3:
            out += [w[:-3] or w, "not"]
        else:
            out.append(w)
    return out


def has_negation(text: str) -> bool:
    """Whether the text holds a negation word ("not", "n't", "never", "no", "none", "without", ...)."""
    return not NEGATIONS.isdisjoint(_tokens(text))


def _stem(word: str) -> str:
    return (content_stems(word) or [word])[0]


def _opposite_of(word: str, claim_words: set[str]) -> str:
    for p in _OPPOSITE:
        base = word[len(p):]
        if word.startswith(p) and len(base) >= 5 and base in claim_words:
            return base
    return ""


def contradiction(claim: str, sentences: Iterable[str], known: frozenset[str] = frozenset()) -> str:
    """Why one of `sentences` says the opposite of `claim` ("" if none does, or none is about the same thing)."""
    c_tokens = _tokens(claim)
    stems = set(content_stems(claim)) - {"yes"}  # "Yes, X" claims X
    if not stems or any(w in NEGATIVE for w in c_tokens):
        return ""
    c_words = {w for w in c_tokens if w not in STOPWORDS}
    c_numbers, names = numbers(claim), entity_rules.names(claim, known)
    for sentence in sentences:
        s_tokens = _tokens(sentence)
        opposites = {w: b for w in set(s_tokens) if w not in c_words and (b := _opposite_of(w, c_words))}
        if not (opposites or VERBAL & set(s_tokens)) or not c_numbers <= numbers(sentence):
            continue  # nothing negating, or not about the same numbers: the cheap tests first
        s_stems = set(content_stems(sentence)) | {_stem(b) for b in opposites.values()}
        if len(stems & s_stems) / len(stems) < MIN_OVERLAP:
            continue
        if names:
            hay = entity_rules.haystack(sentence)
            if not any(entity_rules.found(n, hay) for n in names):
                continue
        why = _negates(opposites, s_tokens, stems, names)
        if why:
            return why
    return ""


def _subject_before(s_tokens: list[str], i: int, names: list[entity_rules.Entity]) -> int | None:
    """Which of the claim's names stands last before position `i` of the sentence (its index), if any."""
    best: tuple[int, int] | None = None
    for k, n in enumerate(names):
        last = n.words[-1][-1] if n.words and n.words[-1] else ""
        at = max((j for j, t in enumerate(s_tokens[:i]) if t == last), default=-1)
        if at >= 0 and (best is None or at > best[0]):
            best = (at, k)
    return None if best is None else best[1]


def _negates(opposites: dict[str, str], s_tokens: list[str], stems: set[str],
             names: list[entity_rules.Entity]) -> str:
    if opposites:
        w, base = min(opposites.items())
        return f'the source says "{w}" where the answer says "{base}"'
    for i, w in enumerate(s_tokens):
        window = s_tokens[i + 1 : i + 4]
        # "not only ... but also", "isn't opposed to": no negation of what follows
        if w not in VERBAL or window[:1] and window[0] in _NOT_NEGATING or any(v in NEGATIVE for v in window):
            continue
        # what is negated is the first content word after it: "shouldn't stoop to meet" negates stooping
        v = next((v for v in window if v not in STOPWORDS), "")
        # said of someone else: "Mr. Putin should not meet with Mr. Zelensky" against "Zelensky is willing to meet"
        if names and _subject_before(s_tokens, i, names) not in (None, 0):
            continue
        if v and _stem(v) in stems:
            return f'the source says "{w} … {v}"'
    return ""
