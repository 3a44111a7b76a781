"""Template payloads that try to leave Jinja's sandbox: each must fail with a one-line
error or render inert (no command run, no file read from outside the template roots,
no module or interpreter internals reached). The test prints its figures."""

from __future__ import annotations

import traceback
from pathlib import Path

from scaffold.errors import ScaffoldError
from scaffold.generate import new

SECRET = "SECRET-TOKEN-4f1e"
# What a payload's output may not show: the secret, or a reached module or builtin.
LEAKS = (SECRET, "<module", "__builtins__", "<built-in", "Popen", "<class 'type'>")

_G = "__globals__"
PAYLOADS = [
    # Attribute walks to classes, subclasses and globals.
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ [].__class__.__mro__ }}",
    "{{ (1).real.__class__ }}",
    "{{ 1 .__class__.__bases__ }}",
    "{{ dict.__subclasses__() }}",
    "{{ dict(a=1).items().__class__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self.__class__.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__dict__ }}",
    "{{ self.__module__ }}",
    f"{{{{ cycler.__init__.{_G}.os.popen('touch CANARY').read() }}}}",
    f"{{{{ joiner.__init__.{_G} }}}}",
    f"{{{{ joiner().__call__.{_G} }}}}",
    f"{{{{ lipsum.{_G}['os'].system('touch CANARY') }}}}",
    "{{ lipsum.func_globals }}",
    "{{ lipsum.__module__ }}",
    f"{{{{ namespace.__init__.{_G} }}}}",
    "{{ namespace.__class__ }}",
    f"{{{{ range.__init__.{_G} }}}}",
    f"{{{{ super.{_G} }}}}",
    "{{ text.__class__ }}",
    "{{ text._value }}",
    "{{ text.__dict__ }}",
    "{{ class_name.__class__.__mro__ }}",
    # Names that are not there.
    "{{ config }}",
    "{{ request }}",
    "{{ environment }}",
    "{{ __import__('os').system('touch CANARY') }}",
    "{{ open(SECRET_PATH).read() }}",
    "{{ getattr(lipsum, '__globals__') }}",
    "{{ eval('1') }}",
    # |attr and other filters that look attributes up.
    "{{ ''|attr('__class__') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    f"{{{{ lipsum|attr('{_G}') }}}}",
    "{{ self|attr('__dict__') }}",
    "{% filter attr('__class__') %}x{% endfilter %}",
    f"{{{{ [cycler]|map(attribute='__init__.{_G}')|list }}}}",
    f"{{{{ [lipsum]|selectattr('{_G}')|list }}}}",
    f"{{{{ [lipsum]|sort(attribute='{_G}') }}}}",
    f"{{{{ [lipsum]|groupby('{_G}') }}}}",
    f"{{{{ [lipsum]|map(attribute='{_G}')|first }}}}",
    "{{ text|safe }}",
    # Format-string tricks.
    "{{ '{0.__class__}'.format(1) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    f"{{{{ '{{0.{_G}}}'.format(lipsum) }}}}",
    f"{{{{ '{{a.{_G}}}'.format_map({{'a': lipsum}}) }}}}",
    f"{{{{ '%s'|format(lipsum.{_G}) }}}}",
    f"{{{{ '%(a)s' % {{'a': lipsum.{_G}}} }}}}",
    "{{ '{0:%s}'.format(lipsum) }}",
    # Macros, namespaces, loops, blocks.
    f"{{% macro m() %}}{{{{ caller.{_G} }}}}{{% endmacro %}}{{% call m() %}}{{% endcall %}}",
    f"{{% macro m() %}}{{% endmacro %}}{{{{ m.{_G} }}}}",
    "{% macro m() %}{% endmacro %}{{ m._environment.loader }}",
    "{% macro m() %}{{ varargs.__class__ }}{% endmacro %}{{ m(1) }}",
    "{% set ns = namespace(a=1) %}{{ ns.__dict__ }}",
    "{% set ns = namespace() %}{% set ns.__class__ = 1 %}{{ ns }}",
    "{% for x in range(1) %}{{ loop.__class__.__init__ }}{% endfor %}",
    "{% block b %}{{ super.__self__ }}{% endblock %}",
    "{{ [].append(1) }}",
    "{% set d = {} %}{{ d.update(a=1) }}{{ d }}",
    "{{ lipsum|pprint }}",
    "{% debug %}",
    "{% do lipsum() %}",
    # Files outside the template roots, by include, import, extends and from.
    "{% include '/etc/passwd' %}",
    "{% include SECRET_PATH %}",
    "{% include '../secret.txt' %}",
    "{% include '../../secret.txt' %}",
    "{% include 'payload/../../secret.txt' %}",
    "{% include 'builtin/../../../secret.txt' %}",
    "{% include 'link.txt' %}",
    "{% include 'payload/link.txt' %}",
    "{% include '/proc/self/environ' %}",
    "{% include '~/.ssh/id_rsa' %}",
    "{% include 'C:\\\\Windows\\\\win.ini' %}",
    "{% include '\\x00' %}",
    "{% include '' %}",
    "{% include ['../secret.txt', SECRET_PATH] %}",
    "{% import '../secret.txt' as s %}{{ s }}",
    "{% from SECRET_PATH import x %}{{ x }}",
    "{% extends '../secret.txt' %}",
    "{% extends SECRET_PATH %}",
    "{% set s %}{% include SECRET_PATH %}{% endset %}{{ s|tojson }}",
    "{% import '_common/losses.j2' as l %}{{ l.__dict__ }}",
]  # fmt: skip


def test_no_payload_escapes_the_sandbox(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    canary = tmp_path / "out" / "CANARY"
    root = tmp_path / "work" / "templates"
    kind = root / "payload"
    kind.mkdir(parents=True)
    (kind / "kind.toml").write_text(
        '[[files]]\ntemplate = "p.txt.j2"\npath = "out.txt"\n'
        '[variables.text]\ntype = "string"\ndefault = "x"\n'
    )
    (root / "link.txt").symlink_to(secret)
    (kind / "link.txt").symlink_to(secret)
    counts = {"payloads": 0, "refused": 0, "inert": 0, "escapes": 0, "tracebacks": 0}
    escapes = []
    for index, payload in enumerate(PAYLOADS):
        counts["payloads"] += 1
        body = payload.replace("SECRET_PATH", repr(str(secret)))
        (kind / "p.txt.j2").write_text(body)
        destination = tmp_path / "out" / str(index)
        try:
            [target] = new("payload", "Net", {}, destination=destination,
                           template_dirs=[root])  # fmt: skip
        except ScaffoldError as exc:
            counts["refused"] += 1
            assert "\n" not in str(exc), payload
            assert not destination.exists(), payload
            continue
        except Exception:  # noqa: BLE001 (counting them is the test)
            counts["tracebacks"] += 1
            escapes.append(f"{payload}: {traceback.format_exc(limit=-1)}")
            continue
        text = target.path.read_text()
        if any(leak in text for leak in LEAKS):
            counts["escapes"] += 1
            escapes.append(f"{payload}: {text[:200]!r}")
        else:
            counts["inert"] += 1
    assert not canary.exists() and not (Path.cwd() / "CANARY").exists()
    with capsys.disabled():
        print("\nsandbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert counts["payloads"] >= 60
    assert escapes == []
    assert counts["escapes"] == counts["tracebacks"] == 0
