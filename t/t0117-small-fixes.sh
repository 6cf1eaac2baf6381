#!/bin/sh

test_description='small fixes of issue 18 (items 12 and 13)

Paths of 512 bytes and more (LMDB keys hold at most 511) are kept in the
stat cache under a hash of the path, with the path in the value: a
collision is a miss; a remote name too long for the remote cache is a
clear error. log compares a commit with its first parent; checkout --rev
writes nothing when one path is refused; add refuses what git tracks;
names with control characters are C-quoted as git quotes them; init
with the git user in two config files does not leak (the sanitizer pass
of make test runs this script too).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SQ="'"

# name255 C: a 255-byte file name of the letter C
name255 () {
	printf "%0255d" 0 | tr 0 "$1"
}

test_expect_success 'setup: a repository' '
	git init -q repo && cd repo &&
	cairn init >/dev/null &&
	git add .cairn && git commit -qm init
'

test_expect_success 'paths up to PATH_MAX: add, the stat cache, checkout, ls, fsck' '
	cd repo &&
	# as deep as the absolute path allows: nested 255-byte names
	levels=$(( (4000 - ${#PWD} - 10) / 256 )) &&
	test $levels -ge 3 &&
	p=data && for i in $(test_seq 1 $levels); do p=$p/$(name255 n); done &&
	mkdir -p "$p" && echo deep >"$p/f" && echo short >data/short &&
	mkdir data/$(name255 m) && echo mid >data/$(name255 m)/$(name255 o) &&
	echo "$p" >../deep-path &&
	cairn add data >out && test_grep "3 files read" out &&
	# unchanged: nothing read again, the long paths included
	cairn add data >out && test_grep "0 files read" out &&
	cairn status >out && test_grep "matches its pointer" out &&
	echo more >>"$p/f" &&
	cairn add data >out && test_grep "1 files read" out &&
	cairn add data >out && test_grep "0 files read" out &&
	git add -A && git commit -qm long &&
	cp -r data ../long-orig && rm -rf data &&
	cairn checkout -q && diff -r data ../long-orig &&
	cairn status >out && test_grep "matches its pointer" out &&
	cairn ls data.cairn >out && test_line_count = 3 out &&
	cairn fsck -q
'

# count_lines FILE: the number of lines (test_line_count would print
# kilobytes of hex on failure)
count_lines () {
	wc -l <"$1" | tr -d " "
}

# long_entries: "KEYHEX VALUEHEX" of the stat cache entries keyed by a hash
long_entries () {
	lmdb-db .cairn/state stat dump >stat.dump &&
	sed -n "/^00/p" stat.dump
}

test_expect_success 'a long path is keyed by a hash, its value holds the path' '
	cd repo &&
	long_entries >entries &&
	test $(count_lines entries) = 2 &&
	while read k v
	do
		test ${#k} = 34 || return 1
	done <entries &&
	# the value ends with the path (hex): the deep file is in it
	printf "%s" "$(cat ../deep-path)/f" | od -An -v -tx1 | tr -d " \n" >deep.hex &&
	grep -c "$(cat deep.hex)\$" entries >count && echo 1 >expect && test_cmp expect count
'

test_expect_success 'an entry of another path under the same hash is a miss, not a hit' '
	cd repo &&
	long_entries >entries &&
	line=$(grep "$(cat deep.hex)\$" entries) &&
	k=${line%% *} && v=${line#* } &&
	# same stat fields and id, the last byte of the path changed ("f" -> "g")
	v2=$(printf "%s" "$v" | sed "s/66\$/67/") &&
	test "$v" != "$v2" &&
	lmdb-db .cairn/state stat put "$k" "$v2" &&
	cairn add data >out && test_grep "1 files read" out &&
	cairn add data >out && test_grep "0 files read" out
'

test_expect_success 'entries of long paths that are gone are forgotten' '
	cd repo &&
	# the cache is saved (and pruned) when a file was read
	rm -rf data/$(name255 m) && echo 2 >>data/short &&
	cairn add data >out &&
	long_entries >entries &&
	test $(count_lines entries) = 1 &&
	grep -q "$(cat deep.hex)\$" entries &&
	rm -rf data/n* && echo 3 >>data/short &&
	cairn add data >out &&
	long_entries >entries &&
	test $(count_lines entries) = 0 &&
	lmdb-db .cairn/state stat dump >all && test $(count_lines all) = 1
'

test_expect_success 'a remote name longer than the remote cache allows: a clear error' '
	cd repo &&
	mkdir ../rem &&
	long=$(printf "%0300d" 0 | tr 0 r) &&
	printf "[remote \"%s\"]\n\turl = %s\n" "$long" "$TRASH_DIRECTORY/rem" >>.cairn/config &&
	for c in push fetch pull fsck gc
	do
		test_must_fail cairn $c -r "$long" 2>err &&
		test_grep "^error: remote name .* is too long (300 bytes, at most 255)" err || return 1
	done &&
	git checkout -q .cairn/config
'

# log_counts COMMIT: the "(+A -D ~M)" of COMMIT in cairn log data
log_counts () {
	cairn log data >log.out &&
	sed -n "/^commit $1/,/^commit /p" log.out | sed -n "s/.*  (\(+[0-9]* -[0-9]* ~[0-9]*\))\$/\1/p"
}

test_expect_success PYTHON3 'log compares each commit with its first parent, not the commit listed before it' '
	git init -q hist && cd hist &&
	cairn init >/dev/null && git add .cairn && test_tick && git commit -qm init &&
	mkdir data && echo base >data/base &&
	cairn add -q data && git add -A && test_tick && git commit -qm c1 &&
	git branch side &&
	# side (older) adds s; main (newer) adds m: git log lists c3, c2, c1
	git checkout -q side && echo s >data/s &&
	cairn add -q data && git add -A && test_tick && git commit -qm c2 &&
	git checkout -q main && rm data/s && cairn checkout -q -f &&
	echo m >data/m && cairn add -q data && git add -A && test_tick && git commit -qm c3 &&
	# the merge: both files; compared with its first parent (main, c3)
	test_tick && test_must_fail git merge -q side >/dev/null 2>&1 &&
	echo s >data/s && cairn add -q data && git add data.cairn && git commit -qm merge &&
	git log --format=%s -- data.cairn >order && printf "%s\n" merge c3 c2 c1 >expect &&
	test_cmp expect order &&
	test "$(log_counts $(git rev-parse HEAD~1))" = "+1 -0 ~0" &&
	test "$(log_counts $(git rev-parse side))" = "+1 -0 ~0" &&
	test "$(log_counts $(git rev-parse HEAD))" = "+1 -0 ~0" &&
	test "$(log_counts $(git rev-parse HEAD~2))" = "+1 -0 ~0" &&
	cairn log --json data >log.json &&
	python3 -c "
import json, sys
c = json.load(open(\"log.json\"))[\"commits\"]
assert [(x[\"added\"], x[\"deleted_files\"]) for x in c] == [(1, 0)] * 4, c
"
'

test_expect_success SYMLINKS 'checkout --rev checks every path before it writes any' '
	git init -q co && cd co &&
	cairn init >/dev/null &&
	mkdir a b z z/c && echo a1 >a/f && echo b1 >b/f && echo c1 >z/c/f &&
	cairn add -q a b z/c && git add -A && git commit -qm v1 && git tag v1 &&
	echo a2 >a/f && echo b2 >b/f && echo c2 >z/c/f &&
	cairn add -q a b z/c && git add -A && git commit -qm v2 && git tag v2 &&
	cp -r a ../a-v2 &&
	# b has a local change that is not stored: b is refused, a untouched
	echo local >b/new &&
	test_must_fail cairn checkout --rev v1 >out 2>err &&
	test_grep "b/new. has local changes that are not stored" err &&
	test_grep "^hint: nothing was changed (1 of 3 tracked paths cannot be checked out)" err &&
	diff -r ../a-v2 a && test "$(cat b/new)" = local && test "$(cat z/c/f)" = c2 &&
	test_must_be_empty out &&
	rm b/new &&
	# a parent of z/c is a symlink (to outside): refused, nothing written
	mv z ../z-real && ln -s ../z-real z &&
	test_must_fail cairn checkout --rev v1 2>err &&
	test_grep "${SQ}z${SQ} is a symlink; cairn does not write through symlinks" err &&
	diff -r ../a-v2 a && test "$(cat ../z-real/c/f)" = c2 &&
	rm z && mv ../z-real z &&
	# the same with paths named: all or nothing too
	echo local >b/new &&
	test_must_fail cairn checkout --rev v1 a b 2>err &&
	diff -r ../a-v2 a &&
	rm b/new &&
	cairn checkout -q --rev v1 && test "$(cat a/f)" = a1 && test "$(cat z/c/f)" = c1 &&
	cairn checkout -q
'

test_expect_success 'checkout --rev: an unreadable pointer or missing data refuses the whole revision' '
	cd co &&
	git init -q ../other && (cd ../other && cairn init >/dev/null && mkdir b && echo elsewhere >b/f && cairn add -q b) &&
	# v3: a changed, b names data this store does not have
	echo a3 >a/f && cairn add -q a && cp ../other/b.cairn b.cairn &&
	git add -A && git commit -qm v3 && git tag v3 &&
	git checkout -q v2 -- a.cairn b.cairn && cairn checkout -q -f && diff -r ../a-v2 a &&
	test_must_fail cairn checkout --rev v3 2>err &&
	test_grep "data of .b/f. is not all in the store\|not in the store" err &&
	diff -r ../a-v2 a && test "$(cat b/f)" = b2 &&
	# v4: a changed, b.cairn is not a pointer
	git checkout -q v3 -- a.cairn && echo garbage >b.cairn &&
	git add -A && git commit -qm v4 && git tag v4 &&
	git checkout -q v2 -- a.cairn b.cairn && cairn checkout -q -f && diff -r ../a-v2 a &&
	test_must_fail cairn checkout --rev v4 2>err &&
	test_grep "b.cairn" err &&
	diff -r ../a-v2 a && test "$(cat b/f)" = b2
'

test_expect_success 'add of a file or directory git already tracks is refused, with the fix' '
	git init -q gt && cd gt &&
	cairn init >/dev/null &&
	echo a,b >table.csv && mkdir -p ds/sub && echo 1 >ds/sub/x && echo 2 >ds/y &&
	mkdir "sp ace" && echo 3 >"sp ace/z" &&
	git add table.csv ds/sub/x "sp ace/z" && git commit -qm "data in git" &&
	test_must_fail cairn add table.csv >out 2>err &&
	test_grep "^error: .table.csv. is tracked by git" err &&
	test_grep "git rm --cached table.csv" err &&
	test_path_is_missing table.csv.cairn &&
	test_must_fail cairn add ds 2>err &&
	test_grep "^error: git tracks 1 file in .ds. (.ds/sub/x.)" err &&
	test_grep "git rm -r --cached ds" err &&
	test_path_is_missing ds.cairn &&
	test_must_fail cairn add "sp ace/" 2>err &&
	test_grep "git rm -r --cached ${SQ}sp ace${SQ}" err &&
	# a glob character is a name, not a pattern
	mkdir "d*" && echo 4 >"d*/f" && cairn add -q "d*" &&
	# the fix works
	git rm -q --cached table.csv && cairn add -q table.csv && test_path_is_file table.csv.cairn &&
	git rm -q -r --cached ds && cairn add -q ds && test_path_is_file ds.cairn &&
	git ls-files table.csv ds >tracked && test_must_be_empty tracked &&
	git status --porcelain --untracked-files=all >st && ! grep -e "^?? table.csv\$" -e "^?? ds/" st
'

test_expect_success PYTHON3 'names with control characters are C-quoted in human output, as git quotes them' '
	git init -q qn && cd qn &&
	cairn init >/dev/null && git add .cairn && git commit -qm init &&
	mkdir data "tab	dir" &&
	python3 -c "
import os
for n in [b\"a\\nb\", b\"t\\tab\", b\"q\\\"uote\", b\"esc\\x1b[31mred\", b\"plain\", b\"caf\\xc3\\xa9\", b\"bell\\x07\"]:
    open(b\"data/\" + n, \"wb\").write(n + b\" \" * 2000)
" &&
	echo t >"tab	dir/f" &&
	cairn add -q data "tab	dir" && git add -A && git commit -qm v1 &&
	# what git prints for the same names is the reference
	git init -q ../qref && cp -r data ../qref/ && (cd ../qref/data && git add . && git ls-files) >expect &&
	cairn ls data | sed "s/^[0-9]* *[0-9]* [0-9a-f]*  //" | sort >actual &&
	sort expect >expect.sorted && test_cmp expect.sorted actual &&
	test_grep "^\"a\\\\nb\"$" actual &&
	test_grep "^\"esc\\\\033\\[31mred\"$" actual &&
	test_grep "^\"caf\\\\303\\\\251\"$" actual &&
	! grep "$(printf "\\033")" actual &&
	# --json keeps the names exact
	cairn ls --json data >ls.json &&
	python3 -c "
import json
names = sorted(e[\"path\"] for e in json.load(open(\"ls.json\"))[\"entries\"])
assert \"a\\nb\" in names and \"esc\\x1b[31mred\" in names and \"bell\\x07\" in names, names
" &&
	# status, diff and log of the changes
	echo changed >"data/a
b" && rm "data/t	ab" && echo new >"data/new
line" &&
	cairn status >out &&
	test_grep "^    modified  \"data/a\\\\nb\"$" out &&
	test_grep "^    deleted   \"data/t\\\\tab\"$" out &&
	test_grep "^    added     \"data/new\\\\nline\"$" out &&
	cairn add -q data && git add -A && git commit -qm v2 &&
	cairn diff HEAD~1 HEAD >out &&
	test_grep "^M  \"data/a\\\\nb\"  (" out &&
	test_grep "^D  \"data/t\\\\tab\"  (" out &&
	test_grep "^A  \"data/new\\\\nline\"  (" out &&
	cairn diff HEAD~1 HEAD --stat >out &&
	cairn log "tab	dir" >out &&
	test_grep "^    \"tab\\\\tdir\" [0-9a-f]*  " out &&
	cairn status "tab	dir" >out &&
	echo x >>"tab	dir/f" && cairn status "tab	dir" >out &&
	test_grep "^modified: \"tab\\\\tdir\"$" out &&
	test_grep "^    modified  \"tab\\\\tdir/f\"$" out &&
	cairn add "tab	dir" >out &&
	test_grep "^added \"tab\\\\tdir\": 1 files, " out &&
	rm -r "tab	dir" && cairn checkout "tab	dir" >out &&
	test_grep "^\"tab\\\\tdir\": 1 written, 0 removed$" out
'

test_expect_success PYTHON3 '--json is UTF-8 whatever the names: a byte that is not is \udcXX' '
	git init -q ju && cd ju &&
	cairn init >/dev/null && git add .cairn && git commit -qm init &&
	mkdir d &&
	python3 -c "
open(b\"d/a\\xffb\", \"wb\").write(b\"x\")
open(b\"m\\xfe.bin\", \"wb\").write(b\"model\")
open(b\"d/caf\\xc3\\xa9\", \"wb\").write(b\"ok\")
" &&
	cairn add -q d m*.bin && git add -A && git commit -qm v1 &&
	python3 -c "open(b\"d/a\\xffb\", \"wb\").write(b\"y\")" &&
	cairn ls --json d >ls.json &&
	cairn status --json >status.json &&
	cairn diff --json >diff.json &&
	cairn audit --json >audit.json &&
	python3 -c "
import json, os
def load(f):
    raw = open(f, \"rb\").read()
    raw.decode(\"utf-8\")  # strict: the output is UTF-8
    return json.loads(raw)
ls = load(\"ls.json\")
names = sorted(os.fsencode(e[\"path\"]) for e in ls[\"entries\"])
assert names == [b\"a\\xffb\", \"caf\\u00e9\".encode()], names
st = load(\"status.json\")
ch = [os.fsencode(c[\"path\"]) for p in st[\"paths\"] for c in p.get(\"changes\", [])]
assert ch == [b\"d/a\\xffb\"], ch
df = load(\"diff.json\")
assert [os.fsencode(c[\"path\"]) for p in df[\"paths\"] for c in p[\"changes\"]] == [b\"d/a\\xffb\"]
au = load(\"audit.json\")
paths = [os.fsencode(p[\"path\"]) for e in au for p in e.get(\"paths\", [])]
assert b\"m\\xfe.bin\" in paths, paths
"
'

test_expect_success PYTHON3 'fsck quotes the paths a damaged object affects' '
	cd qn &&
	oid=$(cairn ls --json data | python3 -c "
import json, sys
print([e[\"id\"] for e in json.load(sys.stdin)[\"entries\"] if e[\"path\"] == \"bell\\x07\"][0])") &&
	for i in .cairn/store/packs/*.idx
	do
		idx_entries $i | grep "^$oid 1 " >entry && pack=${i%.idx}.pack && break
	done &&
	read o t off len <entry &&
	flip_byte $pack $((off + 28 + len / 2)) &&
	test_when_finished "flip_byte $TRASH_DIRECTORY/qn/$pack $((off + 28 + len / 2))" &&
	test_must_fail cairn fsck >out 2>err &&
	test_grep "affects \"data/bell\\\\a\"" out &&
	! grep "$(printf "\\007")" out
'

# t/lib.sh exports GIT_AUTHOR_NAME/EMAIL, and cairn takes them before git's
# config: without them, it reads user.name and user.email with git config
# --get-regexp, which lists a key once per file that sets it.
test_expect_success 'init with the git user set in two config files: no leak, the last one wins' '
	git init -q twouser && cd twouser &&
	git config user.name "Local Name" && git config user.email local@example.com &&
	test "$(git config --get-all user.name | wc -l)" = 2 &&
	(
		unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL &&
		cairn init >/dev/null &&
		echo x >f && cairn add -q f
	) &&
	cairn audit >out &&
	test_grep "Local Name <local@example.com>.* init" out &&
	test_grep "Local Name <local@example.com>.* add" out &&
	! grep "Cairn Author\|author@example.com" out
'

test_done
