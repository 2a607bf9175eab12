#!/usr/bin/env python3
"""Writes libkreg(3) from lib/include/kreg.h, so that the page documents every
public function, type and constant, each with the comment the header gives it;
and, for man -k and man kreg_open, one link page per public function.

    man-libkreg.py kreg.h libkreg.3.in libkreg.map LINKDIR > libkreg.3

The header's declarations come in order, each after its comment; the page keeps
that order, which groups them as the header does. A declaration right under
another, with no comment of its own, is shown with it, under its heading.
Every symbol of the version script must be documented, or this fails.
"""
import os
import re
import sys


def roff(text):
    """Escapes text for a roff line: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in (".", "'") else text


def declarations(header):
    """Yields (comment, declaration, shares_the_one_above) for each declaration."""
    comment, decl, depth = [], [], 0
    in_comment, after_decl = False, False
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
            after_decl = False
            continue
        # A public constant: "#define KREG_NAME value" (not the include guard).
        m = re.match(r"#define\s+(KREG_\w+)\s+\S", s) if not decl else None
        if m:
            text = " ".join(c for c in comment if c).strip()
            yield text, line.rstrip(), not text and after_decl
            comment, after_decl = [], True
            continue
        if not decl and (not s or s.startswith("#") or s in ("extern \"C\" {", "}")):
            if not s:
                comment, after_decl = [], False
            continue
        decl.append(line.rstrip())
        depth += line.count("{") - line.count("}")
        if depth == 0 and s.endswith(";"):
            text = " ".join(c for c in comment if c).strip()
            yield text, "\n".join(decl), not text and after_decl
            comment, decl, after_decl = [], [], True


def title_of(decl):
    """The heading of a declaration: a function's name, a type's tag, a constant's name."""
    head = decl.split("{")[0]
    names = re.findall(r"\b(kreg_\w+)\s*\(", head)
    stripped = decl.lstrip()
    if stripped.startswith("#define"):
        return re.match(r"#define\s+(\w+)", stripped).group(1), None
    if names and "{" not in decl and not stripped.startswith("typedef"):
        return names[0] + "()", names[0]
    tagged = re.match(r"\s*((?:struct|enum|union)\s+\w+)", decl)
    if tagged:
        return tagged.group(1), None
    pointer = re.search(r"\(\*(\w+)\)", decl)
    plain = re.search(r"(\w+)\s*;\s*$", decl)
    return (pointer.group(1) if pointer else plain.group(1) if plain
            else head.strip()), None


def main():
    header, template, mapfile, linkdir = sys.argv[1:5]
    exported = set(re.findall(r"\b(kreg_\w+);", open(mapfile).read()))
    entries, documented = [], set()
    for comment, decl, shares in declarations(open(header).read()):
        title, func = title_of(decl)
        if func:
            documented.add(func)
        if shares and entries:
            entries[-1]["titles"].append(title)
            entries[-1]["decls"].append(decl)
        else:
            entries.append({"titles": [title], "decls": [decl], "comment": comment})
    missing = sorted(exported - documented)
    if missing:
        sys.exit("man-libkreg.py: not documented in %s: %s" % (header, ", ".join(missing)))
    out = []
    for e in entries:
        out.append(".SS %s" % roff(", ".join(e["titles"])))
        out.append(".nf")
        for decl in e["decls"]:
            out += [roff(l.replace("\t", "    ")) for l in decl.splitlines()]
        out.append(".fi")
        if e["comment"]:
            out.append(".PP")
            out.append(roff(e["comment"]))
    os.makedirs(linkdir, exist_ok=True)
    for func in sorted(documented):
        with open(os.path.join(linkdir, func + ".3"), "w") as f:
            f.write(".so man3/libkreg.3\n")
    sys.stdout.write(open(template).read().replace("@FUNCTIONS@\n", "\n".join(out) + "\n"))


main()
