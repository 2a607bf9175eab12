#!/usr/bin/env python3
"""Writes libkreg(3) from lib/include/kreg.h, so that the page documents every
public function, each with the comment the header gives it.

    man-libkreg.py kreg.h libkreg.3.in libkreg.map > libkreg.3

The header's declarations come in order, each after its comment; the page keeps
that order, which groups them as the header does. Every symbol of the version
script must be documented, or this fails.
"""
import re
import sys


def roff(text):
    """Escapes text for a roff line: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in (".", "'") else text


def shared_text(shared):
    return ("As above. " + shared[0]) if shared and shared[0] else ""


def declarations(header):
    """Yields (comment, declaration) for each function, type and constant."""
    comment, decl, depth, shared = [], [], 0, []
    in_comment = False
    for line in header.splitlines():
        s = line.strip()
        if in_comment:
            end = s.endswith("*/")
            s = s[:-2] if end else s
            comment.append(s.lstrip("*").strip())
            in_comment = not end
            continue
        if not decl and s.startswith("/*"):
            body = s[2:]
            if body.endswith("*/"):
                comment = [body[:-2].strip()]
            else:
                comment = [body.strip()]
                in_comment = True
            continue
        if not decl and (not s or s.startswith("#") or s in ("extern \"C\" {", "}")):
            if not s:
                comment, shared = [], []
            continue
        decl.append(line.rstrip())
        depth += line.count("{") - line.count("}")
        if depth == 0 and s.endswith(";"):
            # A declaration right under another, with no comment of its
            # own, shares the one above it.
            text = " ".join(c for c in comment if c).strip() or shared_text(shared)
            yield text, "\n".join(decl)
            shared, comment, decl = [text], [], []


def main():
    header, template, mapfile = sys.argv[1:4]
    exported = set(re.findall(r"\b(kreg_\w+);", open(mapfile).read()))
    out, documented = [], set()
    for comment, decl in declarations(open(header).read()):
        head = decl.split("{")[0]
        names = re.findall(r"\b(kreg_\w+)\s*\(", head)
        func = names[0] if names and "{" not in decl and not decl.lstrip().startswith("typedef") else None
        if func:
            documented.add(func)
            out.append(".SS %s()" % func)
        elif decl.lstrip().startswith(("struct", "enum", "typedef")):
            pointer = re.search(r"\(\*(\w+)\)", decl)
            tagged = re.match(r"\s*((?:struct|enum)\s+\w+)", decl)
            plain = re.search(r"(\w+)\s*;\s*$", decl)
            title = (pointer.group(1) if pointer else tagged.group(1) if tagged
                     else plain.group(1) if plain else decl.split("{")[0].strip())
            out.append(".SS %s" % roff(title))
        else:
            continue
        out.append(".nf")
        out += [roff(l.replace("\t", "    ")) for l in decl.splitlines()]
        out.append(".fi")
        if comment:
            out.append(".PP")
            out.append(roff(comment))
    missing = sorted(exported - documented)
    if missing:
        sys.exit("man-libkreg.py: not documented in %s: %s" % (header, ", ".join(missing)))
    sys.stdout.write(open(template).read().replace("@FUNCTIONS@\n", "\n".join(out) + "\n"))


main()
