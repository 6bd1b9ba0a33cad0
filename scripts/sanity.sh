#!/usr/bin/env bash
# scripts/sanity.sh <collection_src_dir> <workdir>   (called by scripts/test.sh)
#
# Runs `ansible-test sanity` (all default tests) for the collection in <collection_src_dir> on:
#   (a) the latest ansible-core 2.16.x on Python 3.11 (the oldest meta/runtime.yml admits)
#   (b) the latest ansible-core 2.21.x on Python 3.12 (the newest release; raise it with README.md's
#       compatibility table, which tests/docs/test_readme_compat.py checks against these defaults)
# Venvs live in <workdir>/venv-* and are reused; the collection is copied (not symlinked) to
# <workdir>/ansible_collections/$SANITY_NAMESPACE/$SANITY_NAME. Exits non-zero if either run fails.
#
# Environment knobs (all optional):
#   SANITY_NAMESPACE / SANITY_NAME  collection path components (default wayscloud / databases)
#   SANITY_PY_OLD / SANITY_PY_NEW   controller interpreters (default pyenv 3.11.7 / 3.12.1)
#   SANITY_CORE_OLD / SANITY_CORE_NEW  pip specs (default 'ansible-core>=2.16,<2.17' / 'ansible-core>=2.21,<2.22')
#   SANITY_UPGRADE=0      reuse venvs as they are (skip the `pip install -U` freshness check)
#   SANITY_TARGETS=all    multi-version tests (compile, import) on every pyenv Python the core
#                         supports (default); =controller restricts them to the controller Python
#   SANITY_PYENV_ROOT     where pyenv's versions/ live (default /root/.pyenv)
#   SANITY_ONLY=old|new   run only one of the two
#   SANITY_EXTRA_ARGS     extra args appended to `ansible-test sanity` (e.g. "--test pylint")
set -euo pipefail

die() { echo "run-sanity: $*" >&2; exit 2; }
[[ $# -eq 2 ]] || die "usage: $0 <collection_src_dir> <workdir>"
[[ -d $1 ]] || die "collection source dir not found: $1"
[[ -f $1/galaxy.yml ]] || die "no galaxy.yml in $1"

SRC=$(cd "$1" && pwd -P)
mkdir -p "$2"
WORK=$(cd "$2" && pwd -P)
NS=${SANITY_NAMESPACE:-wayscloud}
NAME=${SANITY_NAME:-databases}
DEST=$WORK/ansible_collections/$NS/$NAME
PYENV_ROOT_DIR=${SANITY_PYENV_ROOT:-${PYENV_ROOT:-$HOME/.pyenv}}
PY_OLD=${SANITY_PY_OLD:-$PYENV_ROOT_DIR/versions/3.11.7/bin/python3.11}
PY_NEW=${SANITY_PY_NEW:-$PYENV_ROOT_DIR/versions/3.12.1/bin/python3.12}
CORE_OLD=${SANITY_CORE_OLD:-ansible-core>=2.16,<2.17}
CORE_NEW=${SANITY_CORE_NEW:-ansible-core>=2.21,<2.22}
UPGRADE=${SANITY_UPGRADE:-1}
TARGETS=${SANITY_TARGETS:-all}
ONLY=${SANITY_ONLY:-}
read -r -a EXTRA <<<"${SANITY_EXTRA_ARGS:-}"

case $SRC/ in "$DEST"/*|"$WORK"/*) die "collection source must not be inside the workdir";; esac
WORK_EXCLUDE=()  # a workdir inside the source tree (e.g. <repo>/.sanity-work) must not be copied into itself
case $WORK/ in "$SRC"/*) WORK_EXCLUDE=(--exclude="/${WORK#"$SRC"/}/");; esac
case $TARGETS in all|controller) ;; *) die "SANITY_TARGETS must be all or controller";; esac
command -v rsync >/dev/null || die "rsync is required (apt-get install rsync)"
command -v git >/dev/null || die "git is required (apt-get install git)"

log() { printf '\n=== %s\n' "$*"; }
# pip prints a warning per package for this machine's file:// extra-index-urls that do not exist
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

# --- 1. venvs with ansible-core (reused; refreshed with pip -U unless SANITY_UPGRADE=0) --------
ensure_venv() {  # <venv dir> <python> <pip spec>
    local venv=$1 py=$2 spec=$3
    [[ -x $py ]] || die "python not found: $py"
    if [[ ! -x $venv/bin/ansible-test ]] || ! "$venv/bin/python" -c 'import ansible_test' 2>/dev/null; then
        log "creating $venv ($spec, $("$py" --version 2>&1))"
        rm -rf "$venv"
        "$py" -m venv "$venv"
        quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
    elif [[ $UPGRADE == 1 ]]; then
        quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$spec"
    fi
    # ansible-core <= 2.16 still targets Python 2.7, which has no `venv` module: ansible-test then
    # needs `python -m virtualenv` printing a bare version, i.e. the virtualenv 16.7.12 it pins in
    # _data/requirements/ansible-test.txt. Without it "import" on 2.7 is skipped ("missing virtual
    # environment support"). Installed into our controller venv only, never into pyenv's 2.7.
    if [[ $TARGETS == all && -x $PYBIN/python2.7 ]] &&
       "$venv/bin/python" -c 'import sys; from ansible_test._util.target.common.constants import REMOTE_ONLY_PYTHON_VERSIONS as v; sys.exit("2.7" not in v)' &&
       [[ $("$venv/bin/python" -m virtualenv --version 2>/dev/null || true) != 16.7.12 ]]; then
        quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check virtualenv==16.7.12
    fi
}

# --- 2. offline pip bootstrap for ansible-test's own sanity venvs -----------------------------
SEED=$WORK/.seed_pip_cache.py
write_seed_helper() {
cat >"$SEED" <<'PYEOF'
"""Pre-seed ~/.ansible/test/cache so ansible-test's pip bootstrap never downloads get-pip.py.

Run with the python of a venv that has ansible-core installed. For every Python version that
this ansible-test supports it asks ansible-test itself which pip/setuptools/wheel versions the
bootstrap wants (get_venv_packages), downloads those wheels from PyPI once into
~/.ansible/test/cache/wheels/, and writes ~/.ansible/test/cache/get_pip_<X_Y_Z>.py: a small
py2/py3-compatible stand-in for get-pip.py that installs the cached wheels with --no-index.
Idempotent: existing wheels and bootstrap scripts are left alone.
"""
from __future__ import annotations

import os
import subprocess
import sys
import types

from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS

MARKER = '# ansible-test offline get-pip stand-in (seed_pip_cache.py)'

STUB = MARKER + '''
# Installs pip %(pip)s (and any other requested infrastructure wheels) from the local cache only.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEELS = os.path.join(HERE, 'wheels')
PIP_WHEEL = os.path.join(WHEELS, '%(pip_wheel)s')


def main():
    sys.path.insert(0, PIP_WHEEL)
    from pip._internal.cli.main import main as pip_main
    args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
    return pip_main(['install', '--upgrade', '--force-reinstall', '--no-index', '--find-links', WHEELS] + args)


if __name__ == '__main__':
    sys.exit(main())
'''


def main() -> int:
    cache = os.path.expanduser('~/.ansible/test/cache')
    wheels = os.path.join(cache, 'wheels')
    os.makedirs(wheels, exist_ok=True)

    wanted: dict[str, set[str]] = {}  # pip version -> {name==version, ...}
    for version in REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS:
        packages = get_venv_packages(types.SimpleNamespace(version=version))
        wanted.setdefault(packages['pip'], set()).update(f'{n}=={v}' for n, v in packages.items())

    have = {f.lower() for f in os.listdir(wheels)}
    for pip_version, reqs in sorted(wanted.items()):
        missing = [r for r in sorted(reqs)
                   if not any(h.startswith(r.replace('==', '-').lower() + '-') and h.endswith('.whl') for h in have)]
        for req in missing:  # one call per requirement: pip refuses two versions of one name in one call
            print(f'seed: downloading {req} into {wheels}', flush=True)
            subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:',
                            '--dest', wheels, req], check=True)
        have = {f.lower() for f in os.listdir(wheels)}

        pip_wheel = f'pip-{pip_version}-py3-none-any.whl'
        if pip_wheel.lower() not in have:
            candidates = [f for f in os.listdir(wheels) if f.lower().startswith(f'pip-{pip_version}-')]
            if not candidates:
                raise SystemExit(f'seed: no wheel for pip {pip_version} in {wheels}')
            pip_wheel = candidates[0]

        script = os.path.join(cache, 'get_pip_%s.py' % pip_version.replace('.', '_'))
        content = STUB % dict(pip=pip_version, pip_wheel=pip_wheel)
        if os.path.exists(script):
            with open(script, encoding='utf-8', errors='replace') as f:
                current = f.read()
            if not current.startswith(MARKER) or current == content:
                print(f'seed: keeping {script}')
                continue
        with open(script + '.tmp', 'w', encoding='utf-8') as f:
            f.write(content)
        os.replace(script + '.tmp', script)
        print(f'seed: wrote {script} (pip {pip_version}; wheels: {", ".join(sorted(reqs))})')

    return 0


if __name__ == '__main__':
    sys.exit(main())
PYEOF
}

# --- 3. interpreters: expose real pyenv binaries (pyenv shims fail for non-global versions) ----
PYBIN=$WORK/pybin
make_pybin() {
    rm -rf "$PYBIN"; mkdir -p "$PYBIN"
    local exe base
    for exe in "$PYENV_ROOT_DIR"/versions/*/bin/python[23].[0-9]*; do
        [[ -x $exe && ! -L $PYBIN/$(basename "$exe") ]] || continue
        base=$(basename "$exe")
        [[ $base =~ ^python[23]\.[0-9]+$ ]] || continue
        ln -s "$exe" "$PYBIN/$base"
    done
}

# --- 4. copy the collection ---------------------------------------------------------------------
copy_collection() {
    log "copying $SRC -> $DEST"
    mkdir -p "$DEST"
    rm -rf "$DEST/tests/output"
    rsync -a --delete \
        --exclude='/.git' --exclude='.venv*' --exclude='venv/' --exclude='/tests/output/' \
        --exclude='__pycache__/' --exclude='*.py[co]' --exclude='.pytest_cache/' --exclude='.mypy_cache/' \
        --exclude='.ruff_cache/' --exclude='.tox/' --exclude='.nox/' --exclude='.idea/' --exclude='.vscode/' \
        --exclude='/build/' --exclude='/dist/' --exclude='*.egg-info/' --exclude="/$NS-$NAME-*.tar.gz" \
        --exclude='/changelogs/.plugin-cache.yaml' --exclude='/.work/' --exclude='/.demo/' "${WORK_EXCLUDE[@]}" \
        "$SRC/" "$DEST/"
    # Own git repo in the copy: ansible-test lists files with `git ls-files --cached --others
    # --exclude-standard` from the nearest .git upwards. Without one here it would pick up any
    # enclosing repo (and see nothing at all if <workdir> is git-ignored there) or, outside git,
    # walk every file and ignore .gitignore. No commit is needed.
    [[ -d $DEST/.git ]] || git -C "$DEST" init -q
    # ansible-test writes tests/output/ (results, and with --venv a whole delegation venv) inside
    # the collection; if git does not ignore it, the next run lints it. Ignore it without
    # touching the collection's own .gitignore.
    grep -qxF '/tests/output/' "$DEST/.git/info/exclude" 2>/dev/null ||
        { mkdir -p "$DEST/.git/info"; echo '/tests/output/' >>"$DEST/.git/info/exclude"; }
}

# --- 5. run -------------------------------------------------------------------------------------
FAILED=()
PASSED=()
run_one() {  # <label> <venv>
    local label=$1 venv=$2 core pyver start rc=0 args
    core=$("$venv/bin/python" -c 'from ansible.release import __version__ as v; print(v)')
    pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    local ignore="tests/sanity/ignore-${core%.*}.txt"
    log "ansible-test sanity: ansible-core $core on Python $pyver ($label)"
    if [[ -f $DEST/$ignore ]]; then echo "ignore file: $ignore"; else echo "WARNING: $ignore not found (treated as empty)"; fi
    # seed the pip bootstrap cache for every pip version this ansible-test will ask for
    quiet_pip "$venv/bin/python" "$SEED"
    args=(sanity --local --color no)
    [[ $TARGETS == controller ]] && args+=(--python "$pyver")
    start=$(date +%s)
    ( cd "$DEST" && PATH="$venv/bin:$PYBIN:$PATH" "$venv/bin/ansible-test" "${args[@]}" "${EXTRA[@]}" ) || rc=$?
    echo "--- $label: ansible-core $core / Python $pyver: rc=$rc, $(( $(date +%s) - start ))s"
    if [[ $rc -eq 0 ]]; then PASSED+=("$label (ansible-core $core, Python $pyver)")
    else FAILED+=("$label (ansible-core $core, Python $pyver; rc=$rc)"); fi
}

T0=$(date +%s)
write_seed_helper
make_pybin
[[ $ONLY == new ]] || ensure_venv "$WORK/venv-core-2.16" "$PY_OLD" "$CORE_OLD"
[[ $ONLY == old ]] || ensure_venv "$WORK/venv-core-newest" "$PY_NEW" "$CORE_NEW"
copy_collection
[[ $ONLY == new ]] || run_one old "$WORK/venv-core-2.16"
[[ $ONLY == old ]] || run_one new "$WORK/venv-core-newest"

log "summary ($(( $(date +%s) - T0 ))s total)"
for p in "${PASSED[@]}"; do echo "PASSED: $p"; done
if [[ ${#FAILED[@]} -gt 0 ]]; then
    for f in "${FAILED[@]}"; do echo "FAILED: $f"; done
    exit 1
fi
echo "all sanity runs passed"
