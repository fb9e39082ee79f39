"""Cross-checks Aha's tokenizer.json against Python's `tokenizers` (the reference implementation).

Loads the committed fixture with `tokenizers.Tokenizer.from_file`, encodes sample texts and writes the
ids Python produced to `python_encodings.json` beside it. The Rust test `python_fixture.rs` asserts that
our tokenizer produces exactly these ids and decodes them back, so the file we ship is proven loadable
and equivalent in Python. Rerun after a deliberate vocabulary change:

    pip install tokenizers && python3 dev/tokenizer_fixture.py
"""
import json
import pathlib

import tokenizers

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "crates/aha-tokenizer/tests/fixtures"
SAMPLES = [
    "347*5=",
    "g1735 a1735.",
    "g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 wait a1735.",
    "12+34=g46 ok a46.",
    "<bos>905-17=<think>g888</think><answer>888</answer><eos>",
    "<pad><pad>",
    "",
]

tok = tokenizers.Tokenizer.from_file(str(FIXTURES / "tokenizer.json"))
cases = []
for text in SAMPLES:
    ids = tok.encode(text, add_special_tokens=False).ids
    cases.append({"text": text, "ids": ids, "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)})
out = {"tokenizers_version": tokenizers.__version__, "vocab_size": tok.get_vocab_size(), "cases": cases}
(FIXTURES / "python_encodings.json").write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {len(cases)} cases with tokenizers {tokenizers.__version__}")
