"""How an attempt is drawn from a module's question bank.

Pure functions, no queries: the rules are tested on their own, and the quiz page keeps a
fixed number of queries however large the bank grows.

Why a draw at all: with one fixed set of questions in file order, a patient could pass
without reading (always the second choice, always the longest) or by copying the right
answers from the previous result. A draw asks a few questions from a larger bank, covers
several safety points (concepts), shuffles questions and choices, and is stored before
the page is shown, so what the patient saw is on the record.
"""

import random
from collections import defaultdict

QUESTIONS_PER_ATTEMPT = 5
MIN_CONCEPTS_PER_ATTEMPT = 4

# Seeded from the operating system at import; tests seed it to replay a run. Not used for
# anything secret: it only decides which questions and in which order.
RNG = random.Random()  # noqa: S311


def draw_questions(
    bank: dict[int, str],
    previous: frozenset[int] = frozenset(),
    rng: random.Random = RNG,
    size: int = QUESTIONS_PER_ATTEMPT,
) -> list[int]:
    """`size` question ids from `bank` (question id -> concept), in the order to show.

    One question from each of as many concepts as possible, so an attempt checks several
    safety points; within a concept, questions not asked in the `previous` draw first, so a
    retake asks the same points in other words. Never exactly the `previous` set when the
    bank holds another set that covers as many concepts."""
    size = min(size, len(bank))
    by_concept = defaultdict(list)
    for question_id, concept in bank.items():
        by_concept[concept].append(question_id)
    concepts = list(by_concept)
    rng.shuffle(concepts)
    for questions in by_concept.values():
        rng.shuffle(questions)
        questions.sort(key=lambda question_id: question_id in previous)  # fresh ones first
    chosen = _round_robin([by_concept[concept] for concept in concepts], size)
    if set(chosen) == previous:
        chosen = _swap_one_for_a_fresh_question(chosen, bank, rng)
    rng.shuffle(chosen)
    return chosen


def _round_robin(queues: list[list[int]], size: int) -> list[int]:
    """The first question of each concept, then the second of each, until `size`."""
    chosen, depth = [], 0
    while len(chosen) < size:
        for queue in queues:
            if depth < len(queue) and len(chosen) < size:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def _swap_one_for_a_fresh_question(chosen: list[int], bank: dict[int, str], rng: random.Random) -> list[int]:
    """Replace one question with one not in `chosen`, keeping the concepts covered."""
    needed = len({bank[question_id] for question_id in chosen})
    swaps = [
        (out, fresh)
        for out in chosen
        for fresh in bank
        if fresh not in chosen and len({bank[q] for q in chosen if q != out} | {bank[fresh]}) >= needed
    ]
    if not swaps:
        return chosen  # the bank has no other set that covers as much
    out, fresh = rng.choice(swaps)
    return [fresh if question_id == out else question_id for question_id in chosen]


def shuffled(choice_ids: list[int], rng: random.Random = RNG) -> list[int]:
    return rng.sample(choice_ids, len(choice_ids))


def answers_revealed(*, passed_any: bool, failed_count: int, reveal_after_fails: int) -> bool:
    """The result page shows the right answers once the patient has passed, or after
    `reveal_after_fails` failed attempts; before that it shows which answers were wrong,
    why, and where the module covers them, so a retake tests reading, not copying."""
    return passed_any or failed_count >= reveal_after_fails
