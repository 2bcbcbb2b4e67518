"""Fast tests for words in long source texts.

Plain substring searches: regular expressions that start with a word boundary or a
character class are slow on long texts (the engine cannot search for a literal first), and
the editor asks these questions of every unit's text.
"""

from __future__ import annotations


def is_word_character(character: str) -> bool:
    """What `\\w` matches."""
    return character.isalnum() or character == "_"


def occurs_as_word(text: str, word: str, *, ends_word: bool = True) -> bool:
    """Whether `word` occurs in `text` not preceded by a word character (and, when
    `ends_word`, not followed by one): `\\bword\\b` as a regular expression."""
    start = text.find(word)
    while start != -1:
        end = start + len(word)
        if (start == 0 or not is_word_character(text[start - 1])) and (
            not ends_word or end == len(text) or not is_word_character(text[end])
        ):
            return True
        start = text.find(word, start + 1)
    return False


def occurs_quoted(text: str, word: str) -> bool:
    """Whether `word` occurs right after a quote (blanks between allowed) and before a
    blank: `["']\\s*word\\s` as a regular expression."""
    start = text.find(word)
    while start != -1:
        end = start + len(word)
        before = start - 1
        while before >= 0 and text[before].isspace():
            before -= 1
        if before >= 0 and text[before] in "\"'" and end < len(text) and text[end].isspace():
            return True
        start = text.find(word, end)
    return False
