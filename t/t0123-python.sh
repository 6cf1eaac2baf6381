#!/bin/sh

test_description='the Python package (contrib/python) over libcairn.so.0

A private virtualenv gets the package, installed by pip from
contrib/python with the libcairn.so.0 of this build bundled (under the
sanitizers, the sanitized one, with libasan preloaded into python), and
the packages the tests use: pytest, and fsspec, pandas and pyarrow for
cairn.fsspec. Those are wheels from PyPI, installed once into a
directory of the cache of the caller (~/.cache/cairn-tests, or under
$CAIRN_TEST_PYTHON_DEPS) named by their list and the python, and put on
the path of the virtualenv of each later run by a .pth file: only the
first run downloads them. The fixture repositories are made with the
command line: two versions of a directory and a file, every version on a
directory remote, fresh clones for lazy reads; and for cairn.fsspec, two
versions of a CSV file, parquet files in a tracked directory and tracked
files in plain directories. Then the pytest suite of
contrib/python/tests: one TAP line for the run, and one for each pytest
test.'

# pip may reuse the caller's cache, and the packages of the tests are kept
# in it; lib.sh makes HOME the trash directory and unsets XDG_CACHE_HOME
cairn_caller_home_=${HOME-}
cairn_caller_cache_=${XDG_CACHE_HOME-}

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi
if ! python3 -c "import ensurepip, venv" 2>/dev/null
then
	skip_all='python3 -m venv does not work (apt-get install python3-venv)'
	test_done
fi

PIP_DISABLE_PIP_VERSION_CHECK=1
PIP_NO_INPUT=1
export PIP_DISABLE_PIP_VERSION_CHECK PIP_NO_INPUT
if test -n "$cairn_caller_home_" && test -d "$cairn_caller_home_/.cache/pip"
then
	PIP_CACHE_DIR=$cairn_caller_home_/.cache/pip
	export PIP_CACHE_DIR
fi

# the tree holding t/ (and contrib/): the source tree, or build/sanitize
top=$(cd "$TEST_DIRECTORY/.." && pwd -P)
lib=$CAIRN_BUILD_DIR/libcairn.so.0

# The packages the tests import besides cairn, kept across runs in $deps:
# only wheels, so that nothing is compiled here
test_deps='pytest>=7 fsspec>=2023.1.0 pandas>=2.0 pyarrow>=14'
if test -n "${CAIRN_TEST_PYTHON_DEPS-}"
then
	deps_parent=$CAIRN_TEST_PYTHON_DEPS
elif test -n "$cairn_caller_cache_"
then
	deps_parent=$cairn_caller_cache_/cairn-tests
elif test -n "$cairn_caller_home_"
then
	deps_parent=$cairn_caller_home_/.cache/cairn-tests
else
	deps_parent=$TRASH_DIRECTORY
fi
deps_key=$(python3 -c '
import hashlib, sys, sysconfig
key = repr((sys.argv[1:], sys.version, sysconfig.get_platform()))
print(hashlib.sha256(key.encode()).hexdigest()[:16])
' $test_deps) || exit 1
deps=$deps_parent/t0123-python-$deps_key

# install_deps: pip installs $test_deps into $deps, unless a run did
# already: into a directory of its own first, renamed into place whole, so
# that a run sees all of them or none (two runs at once: the first rename
# wins, the other removes its copy)
install_deps () {
	test -d "$deps" && return 0
	mkdir -p "$deps_parent" &&
	rm -rf "$deps.tmp.$$" &&
	if ! venv/bin/pip install -q --only-binary=:all: --target "$deps.tmp.$$" $test_deps
	then
		rm -rf "$deps.tmp.$$"
		return 1
	fi &&
	if ! mv -T "$deps.tmp.$$" "$deps" 2>/dev/null
	then
		rm -rf "$deps.tmp.$$" &&
		test -d "$deps"
	fi
}

# use_deps: the python of the virtualenv finds $deps, its .pth files
# included, and venv/bin/pytest runs pytest there (as a script: "python -m
# pytest" would import cairn from the current directory, not the venv)
use_deps () {
	venv/bin/python -c '
import os, site, sys
pth = site.getsitepackages()[0] + "/cairn-test-deps.pth"
with open(pth, "w") as f:
    f.write("import site; site.addsitedir(%r)\n" % sys.argv[1])
script = os.path.join(os.path.dirname(sys.executable), "pytest")
with open(script, "w") as f:
    f.write("#!%s\nimport sys\nfrom pytest import console_main\nsys.exit(console_main())\n"
            % sys.executable)
os.chmod(script, 0o755)
' "$deps"
}

# parquet FILE FIRST N: a table of N rows (id FIRST.., name), by pyarrow
parquet () {
	"$TRASH_DIRECTORY/venv/bin/python" -c '
import sys
import pyarrow, pyarrow.parquet
first, n = int(sys.argv[2]), int(sys.argv[3])
ids = list(range(first, first + n))
pyarrow.parquet.write_table(pyarrow.table({"id": ids, "name": ["row %d" % i for i in ids]}),
                            sys.argv[1])
' "$@"
}

# lines FILE N VERSION: N lines of text
lines () {
	python3 -c '
import sys
n, v = int(sys.argv[1]), sys.argv[2]
sys.stdout.write("".join("line %d of version %s: %s\n" % (i, v, "ab" * (i % 40)) for i in range(n)))
' "$2" "$3" >"$1"
}

# run_pytest: the package tests, on the fixtures here, with this build's
# library. A sanitized library needs its libasan (the one ldd names)
# loaded first into python, and python leaks by design.
run_pytest () {
	asan=$(ldd "$lib" | sed -n "s/^[[:space:]]*libasan[^ ]* => \([^ ]*\) .*/\1/p") &&
	if test -n "$asan"
	then
		set -- env LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
	else
		set -- env
	fi &&
	(
		cd "$top/contrib/python" &&
		"$@" CAIRN_LIBRARY="$lib" CAIRN_FIXTURES="$TRASH_DIRECTORY" PYTHONDONTWRITEBYTECODE=1 \
			"$TRASH_DIRECTORY/venv/bin/pytest" -q -rA -p no:cacheprovider \
			--basetemp="$TRASH_DIRECTORY/pytest-tmp" tests
	)
}

test_expect_success 'setup: a virtualenv with the packages of the tests, and the package bundling this build' '
	python3 -m venv venv &&
	install_deps && use_deps &&
	venv/bin/python -c "import pytest, fsspec, pandas, pyarrow" &&
	CAIRN_LIBRARY="$lib" venv/bin/pip install -q "$top/contrib/python[fsspec]" &&
	cmp "$lib" venv/lib/python3*/site-packages/cairn/libcairn.so.0
'

test_expect_success 'setup: two versions, a directory remote, fresh clones' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K >/dev/null &&
	mkdir -p data/sub &&
	make_random data/sub/big 700000 1 && lines data/lines.txt 20000 1 &&
	ln -s lines.txt data/link && make_random model.bin 300000 2 &&
	cairn add -q data model.bin && git add -A && git commit -qm v1 && git tag v1 &&
	mkdir ../v1 && cp data/sub/big data/lines.txt model.bin ../v1/ &&
	make_random data/sub/big 710000 3 && lines data/lines.txt 21000 2 &&
	echo new >data/new.txt && make_random model.bin 300000 4 &&
	cairn add -q data model.bin && git add -A && git commit -qm v2 &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote" &&
	git add .cairn/config && git commit -qm remote &&
	cairn push -q --all-commits &&
	cd .. && git clone -q repo lazy && git clone -q repo empty
'

test_expect_success 'setup: for cairn.fsspec, a CSV in two versions, parquet in a tracked directory' '
	git init -q frames && cd frames &&
	cairn init >/dev/null &&
	mkdir -p data/raw/notes data/tables models/deep &&
	printf "a,b\n1,one\n2,two\n" >data/x.csv &&
	printf "k,v\nx,1\n" >data/raw/y.csv && echo z >data/raw/notes/z.txt &&
	parquet data/tables/part-0.parquet 0 600 && parquet data/tables/part-1.parquet 600 400 &&
	make_random models/deep/w.bin 5000 7 && make_random models/top.bin 10 8 &&
	echo only git >README.md &&
	cairn add -q data/x.csv data/raw data/tables models/deep/w.bin models/top.bin &&
	git add -A && git commit -qm v1 && git tag v1 &&
	printf "a,b\n1,one\n2,two\n3,three\n" >data/x.csv &&
	cairn add -q data/x.csv && git add -A && git commit -qm v2 &&
	cairn remote add -d origin "$TRASH_DIRECTORY/frames-remote" &&
	git add .cairn/config && git commit -qm remote &&
	cairn push -q --all-commits &&
	cd .. && git clone -q frames frames-lazy
'

test_expect_success 'the pytest suite of contrib/python' '
	if run_pytest >pytest.out 2>&1
	then
		status=0
	else
		status=$?
	fi &&
	cat pytest.out &&
	test $status = 0
'

# one TAP line for each pytest test, from its short summary (-rA)
sed -n -E -e "s/^(PASSED|FAILED|ERROR|XFAIL|XPASS) ([^ ]+).*/\1 \2/p" \
	-e "s/^SKIPPED \[[0-9]+\] ([^ ]+).*/SKIPPED \1/p" pytest.out >pytest.results
while read -r outcome id
do
	test_expect_success "pytest $id" "test $outcome = PASSED"
done <pytest.results

test_done
