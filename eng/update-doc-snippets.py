#!/usr/bin/env python3
"""Copies every `// snippet: NAME` ... `// end snippet` region of docs/snippets/*.cs and samples/**/*.cs into the
```csharp block that follows `<!-- snippet: NAME -->` in README.md, docs/*.md and src/*/README.md. Run it after changing
a snippet; DocsSnippetsTests fails when a block and its code differ."""
import pathlib, re, textwrap
root = pathlib.Path(__file__).resolve().parent.parent
regions = {}
for path in list((root / 'docs' / 'snippets').glob('*.cs')) + list((root / 'samples').rglob('*.cs')):
    if '/obj/' in str(path) or '/bin/' in str(path):
        continue
    for m in re.finditer(r'^[ \t]*// snippet: ([\w-]+)\n(.*?)^[ \t]*// end snippet', path.read_text(), re.S | re.M):
        regions[m.group(1)] = textwrap.dedent(m.group(2)).rstrip() + '\n'
docs = [root / 'README.md'] + list((root / 'docs').glob('*.md')) + list((root / 'src').glob('*/README.md'))
for doc in docs:
    text = doc.read_text()
    def replace(m):
        name = m.group(1)
        if name not in regions:
            raise SystemExit(f'{doc}: unknown snippet {name}')
        return f'<!-- snippet: {name} -->\n```csharp\n{regions[name]}```'
    new = re.sub(r'<!-- snippet: ([\w-]+) -->\n```csharp\n.*?```', replace, text, flags=re.S)
    if new != text:
        doc.write_text(new)
        print('updated', doc.relative_to(root))
