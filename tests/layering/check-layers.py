#!/usr/bin/env python3
"""
check-layers.py - the house rules of the source tree, as a test.

Each C file belongs to a room by its folder (docs/ARCHITECTURE.md draws
them).  A room may include only the rooms below it; cache/ and fs/ never
name a protocol; only protocols/backend.c reaches into the backend vtable;
in fs/ only the handlers (ops.c) see a FUSE request and only view.c tells
the kernel what changed, so the core beneath the handlers has no FUSE types;
no file grows past 1,000 lines, and a function past 100 lines says why
("Long because") in the comment right above it.

Usage: check-layers.py SOURCE_ROOT     exits 1 and lists every breach
       check-layers.py --self-test     proves each rule catches a breach

Standard library only: it runs in the bare build as well.
"""
import os
import re
import shutil
import sys
import tempfile

MAX_FILE_LINES = 1000
MAX_FUNC_LINES = 100
INCLUDE_ROOTS = ['.', 'common', 'protocols', 'cache', 'fs']
PROTOCOLS = ['imap', 'pop3', 'smtp', 'ews', 'mapi', 'nspi', 'dav',
             'carddav', 'caldav', 'ldap', 'um']
SCANNED = ['common', 'protocols', 'cache', 'fs', 'src']


def room_of(path):
    """The room of a file, by its path relative to the source root."""
    parts = path.split('/')
    top = parts[0]
    if top in ('common', 'cache', 'fs', 'src'):
        return top
    if top != 'protocols':
        return None
    if len(parts) == 2:
        return 'protocols'              # backend, stream, sender, ...
    if parts[1] == 'wire':
        return 'wire'
    if parts[1] == 'serve':
        return 'serve' if len(parts) == 3 else 'serve/' + parts[2]
    return 'client/' + parts[1]


def may_include(src, dst):
    """Whether a file of room src may include a header of room dst."""
    if src == dst or dst == 'common':
        return True
    if src == 'common':
        return False
    if src == 'wire':
        return False
    if src == 'src':
        return True
    if src in ('cache', 'fs'):
        allowed = {'protocols', 'cache'} if src == 'fs' else {'protocols'}
        return dst in allowed
    if src == 'protocols':
        # backend.c keeps the registry of clients; nothing above protocols/
        return dst == 'wire' or dst.startswith('client/')
    if src.startswith('client/'):
        # a client may use the codecs, the shared plumbing and OAuth2
        return dst in ('wire', 'protocols', 'client/oauth2')
    if src == 'serve':
        return dst in ('wire', 'protocols')
    if src.startswith('serve/'):
        return dst in ('wire', 'protocols', 'serve')
    return False


def strip_comments(text):
    """Comments and string literals blanked, line structure kept."""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    return re.sub(r'/\*.*?\*/|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def resolve(root, path, inc):
    """The header an #include "inc" of `path` finds, relative to root."""
    here = os.path.dirname(path)
    for d in [here] + INCLUDE_ROOTS:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


NAME_RE = re.compile(r'\b(?:' + '|'.join(PROTOCOLS) + r')[cd]?_[A-Za-z0-9_]+'
                     r'|\b(?:' + '|'.join(p.upper() for p in PROTOCOLS) +
                     r')_[A-Z0-9_]+')


def long_functions(lines):
    """(name line, length) of each function body over the limit.  Bodies
    open with '{' and close with '}' at column 0, as the style has it."""
    out = []
    start = None
    for i, line in enumerate(lines):
        if line.startswith('{') and start is None:
            start = i
        elif line.startswith('}') and start is not None:
            if i - start > MAX_FUNC_LINES:
                out.append((start, i - start))
            start = None
    return out


def has_reason(lines, body):
    """Whether the comment right above the function's signature says
    why it is long."""
    j = body - 1
    while j >= 0 and lines[j].strip() and not lines[j].rstrip().endswith('*/'):
        j -= 1                  # back over the signature
    k = j
    while k >= 0 and lines[k].strip() and '/*' not in lines[k]:
        k -= 1
    comment = ' '.join(lines[max(k, 0):j + 1])
    return 'Long because' in comment


def check(root):
    errors = []
    files = []
    for top in SCANNED:
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith(('.c', '.h')):
                    files.append(os.path.relpath(os.path.join(d, n), root))
    for path in sorted(files):
        room = room_of(path)
        with open(os.path.join(root, path), encoding='utf-8') as f:
            text = f.read()
        lines = text.split('\n')
        for no, line in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            target = resolve(root, path, m.group(1))
            if target is None:
                continue        # generated (mailfs-version.h)
            troom = room_of(target)
            if troom and not may_include(room, troom):
                errors.append('%s:%d: %s may not include %s (%s)'
                              % (path, no, room, target, troom))
        code = strip_comments(text)
        if room in ('cache', 'fs'):
            for no, line in enumerate(code.split('\n'), 1):
                m = NAME_RE.search(line)
                if m:
                    errors.append('%s:%d: %s names a protocol: %s'
                                  % (path, no, room, m.group(0)))
        if room == 'fs':
            for no, line in enumerate(code.split('\n'), 1):
                if path != 'fs/ops.c' and re.search(
                        r'\bfuse_req_t\b|\bfuse_reply_|struct\s+fuse_file_info',
                        line):
                    errors.append('%s:%d: a FUSE request outside the '
                                  'handlers (fs/ops.c)' % (path, no))
                if path != 'fs/view.c' and 'fuse_lowlevel_notify' in line:
                    errors.append('%s:%d: a kernel notification outside '
                                  'fs/view.c' % (path, no))
        if path != 'protocols/backend.c':
            for no, line in enumerate(code.split('\n'), 1):
                if re.search(r'->\s*ops\b', line):
                    errors.append('%s:%d: only protocols/backend.c reaches '
                                  'into the backend vtable' % (path, no))
        if path.endswith('.c'):
            if len(lines) > MAX_FILE_LINES + 1:
                errors.append('%s: %d lines (at most %d: two jobs share it?)'
                              % (path, len(lines) - 1, MAX_FILE_LINES))
            for body, n in long_functions(lines):
                if not has_reason(lines, body):
                    errors.append('%s:%d: a function of %d lines without '
                                  '"Long because" above it'
                                  % (path, body + 1, n))
    return errors


def self_test():
    """Each rule, broken once in a small tree, is reported."""
    cases = {
        'common includes a client': ('common/a.c', '#include "imap/conn.h"\n'),
        'wire includes the backend': ('protocols/wire/a.c',
                                      '#include "backend.h"\n'),
        'a client includes cache': ('protocols/imap/a.c',
                                    '#include "cache.h"\n'),
        'a server includes a client': ('protocols/serve/imap/a.c',
                                       '#include "imap/conn.h"\n'),
        'a client includes a server': ('protocols/imap/a.c',
                                       '#include "serve/serve.h"\n'),
        'fs includes a codec': ('fs/a.c', '#include "wire/imap-parse.h"\n'),
        'cache includes fs': ('cache/a.c', '#include "fs.h"\n'),
        'cache names a protocol': ('cache/a.c', 'int x(void) { return '
                                   'imapc_thing(); }\n'),
        'fs reaches the vtable': ('fs/a.c', 'int x(struct mfs_store *s)\n{\n'
                                  '\treturn s->ops->caps;\n}\n'),
        'the fs core replies': ('fs/a.c', 'void f(fuse_req_t req)\n{\n'
                                '\tfuse_reply_err(req, 0);\n}\n'),
        'a handler notifies': ('fs/ops.c', 'void f(void)\n{\n'
                               '\tfuse_lowlevel_notify_inval_inode(0, 1, 0,'
                               ' 0);\n}\n'),
        'a long file': ('src/a.c', 'int x;\n' * (MAX_FILE_LINES + 5)),
        'a long function': ('src/a.c', '/* short */\nint f(void)\n{\n' +
                            '\tx++;\n' * (MAX_FUNC_LINES + 5) + '}\n'),
    }
    headers = ['protocols/imap/conn.h', 'protocols/backend.h',
               'cache/cache.h', 'protocols/serve/serve.h',
               'protocols/wire/imap-parse.h', 'fs/fs.h']
    clean = {'protocols/imap/b.c': '#include "wire/imap-parse.h"\n'
             '#include "backend.h"\n#include "conn.h"\n',
             'fs/b.c': '#include "cache.h"\n#include "backend.h"\n'
             '/* imapc_ in a comment is fine */\n',
             'src/b.c': '/* Long because it is a table. */\nint f(void)\n{\n' +
             '\tx++;\n' * (MAX_FUNC_LINES + 5) + '}\n'}
    failed = 0
    for name, (path, body) in list(cases.items()) + [('clean', (None, None))]:
        with tempfile.TemporaryDirectory() as tmp:
            for h in headers:
                os.makedirs(os.path.join(tmp, os.path.dirname(h)),
                            exist_ok=True)
                open(os.path.join(tmp, h), 'w').close()
            files = dict(clean)
            if body is not None:
                files[path] = body
            for p, b in files.items():
                os.makedirs(os.path.join(tmp, os.path.dirname(p)),
                            exist_ok=True)
                with open(os.path.join(tmp, p), 'w') as f:
                    f.write(b)
            errors = check(tmp)
            ok = (not errors) if body is None else \
                any(e.startswith(path) for e in errors)
            print('%s: %s%s' % ('ok' if ok else 'FAIL', name,
                               '' if ok else ' -> ' + repr(errors)))
            failed += not ok
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    errors = check(sys.argv[1])
    for e in errors:
        print(e)
    print('%d breach%s of the house rules'
          % (len(errors), '' if len(errors) == 1 else 'es'))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
