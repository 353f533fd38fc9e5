"""Heading ids as GitHub makes them, so a link written for the code host
(labs/00-block-by-hand/README.md#step-1--ln1) lands on the same heading in the site.

GitHub lower-cases the heading's text, drops every character that is not a letter, a digit,
a combining mark, '-' or '_' (punctuation such as '·', '§', '=', emoji), turns each space into
'-' without merging neighbours ("Step 1 · LN1" -> "step-1--ln1"), and keeps non-ASCII letters
("h·Eᵀ" -> "heᵀ"). Python-Markdown's default slugify folds to ASCII and merges dashes instead.
"""
import unicodedata


def slugify(value, separator="-"):
    out = []
    for ch in value.strip().lower():
        if ch == " ":
            out.append(separator)
        elif ch in "-_" or unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
    return "".join(out)
