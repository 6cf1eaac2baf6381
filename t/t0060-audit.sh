#!/bin/sh

test_description='cairn audit: the hash-chained trail of state-changing commands

Every state-changing command appends an entry with the right fields;
read-only ones and usage errors do not. Secrets never reach an entry.
Edits, removals, reorderings and truncations are found by verify, which
names the entry. Two clones merge their trails through a directory
remote, and a chain rewritten on the remote is caught by a clone holding
an earlier copy. Four commands at once append four whole entries, and a
torn last line (a killed append) is set aside.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

REMOTE=$TRASH_DIRECTORY/remote

# chain_log DIR: the path of DIR's own chain.
chain_log () {
	echo "$1/.cairn/audit/$(cat "$1/.cairn/audit/clone-id").log"
}

# last_field DIR KEY: KEY of the last entry of DIR's own chain (JSON text
# for lists and objects, the plain value otherwise).
last_field () {
	python3 -c '
import json, sys
line = open(sys.argv[1], "rb").read().splitlines()[-1].decode()
v = json.loads(line.split(" ", 1)[1])[sys.argv[2]]
print(v if isinstance(v, (str, int)) else json.dumps(v, sort_keys=True))
' "$(chain_log "$1")" "$2"
}

# entries DIR: the number of entries in DIR's own chain.
entries () {
	if test -f "$(chain_log "$1")"
	then
		wc -l <"$(chain_log "$1")" | tr -d " "
	else
		echo 0
	fi
}

# rechain FILE [SKIP]: recompute every id and prev of a chain file in
# order, as someone rewriting the trail with care would (with SKIP, the
# line of that number keeps its old id).
rechain () {
	python3 -c '
import hashlib, json, sys
path = sys.argv[1]
skip = int(sys.argv[2]) if len(sys.argv) > 2 else 0
out, prev = [], "0" * 64
for n, raw in enumerate(open(path, "rb").read().splitlines(), 1):
    old_id, js = raw.decode().split(" ", 1)
    e = json.loads(js)
    e["prev"] = prev
    js = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
    new_id = old_id if n == skip else hashlib.sha256(js.encode()).hexdigest()
    out.append(new_id + " " + js + "\n")
    prev = new_id
open(path, "w").write("".join(out))
' "$@"
}

# fix_id FILE N: recompute the id of entry N only (the next entry
# still names the old one).
fix_id () {
	python3 -c '
import hashlib, sys
path, n = sys.argv[1], int(sys.argv[2])
lines = open(path, "rb").read().decode().splitlines(True)
js = lines[n - 1].split(" ", 1)[1]
lines[n - 1] = hashlib.sha256(js.rstrip("\n").encode()).hexdigest() + " " + js
open(path, "w").write("".join(lines))
' "$@"
}

# edit_entry FILE N KEY VALUE: change one field of entry N in place,
# leaving its id as it was.
edit_entry () {
	python3 -c '
import json, sys
path, n, key, val = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = open(path, "rb").read().decode().splitlines(True)
i, js = lines[n - 1].split(" ", 1)
e = json.loads(js)
e[key] = val
lines[n - 1] = i + " " + json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n"
open(path, "w").write("".join(lines))
' "$@"
}

test_expect_success 'init starts the chain: a clone id and entry 1' '
	git init -q a && cd a &&
	cairn init >/dev/null &&
	test_path_is_file .cairn/audit/clone-id &&
	grep -E "^[0-9a-f]{32}$" .cairn/audit/clone-id &&
	test "$(entries .)" = 1 &&
	test "$(last_field . op)" = init &&
	test "$(last_field . seq)" = 1 &&
	test "$(last_field . prev)" = 0000000000000000000000000000000000000000000000000000000000000000 &&
	test "$(last_field . clone)" = "$(cat .cairn/audit/clone-id)" &&
	test "$(last_field . user)" = "$GIT_AUTHOR_NAME" &&
	test "$(last_field . email)" = "$GIT_AUTHOR_EMAIL" &&
	test "$(last_field . host)" = "$(uname -n)" &&
	test "$(last_field . version)" = "$(cairn version | sed "s/^cairn version //")" &&
	test "$(last_field . repo)" = "$(pwd)" &&
	test "$(last_field . outcome)" = ok &&
	git status --porcelain --untracked-files=all >st &&
	test_grep ! "audit" st
'

test_expect_success 'add records the path, its old and new ids, bytes stored and HEAD' '
	cd a &&
	mkdir data && make_random data/f1 100000 1 && echo small >data/s &&
	git commit -q --allow-empty -m empty &&
	cairn add -q data &&
	test "$(entries .)" = 2 &&
	test "$(last_field . op)" = add &&
	test "$(last_field . args)" = "[\"-q\", \"data\"]" &&
	test "$(last_field . head)" = "$(git rev-parse HEAD)" &&
	id1=$(ptr_val data.cairn id) &&
	test "$(last_field . paths)" = "[{\"new\": \"$id1\", \"old\": \"\", \"path\": \"data\"}]" &&
	test "$(last_field . stored)" -gt 1000 &&
	make_random data/f2 5000 2 &&
	cairn add -q data &&
	id2=$(ptr_val data.cairn id) &&
	test "$(last_field . paths)" = "[{\"new\": \"$id2\", \"old\": \"$id1\", \"path\": \"data\"}]" &&
	git add -A && git commit -qm v1
'

test_expect_success 'checkout records what it wrote; read-only commands add nothing' '
	cd a &&
	n=$(entries .) &&
	cairn status >/dev/null && cairn ls data >/dev/null && cairn stats >/dev/null &&
	test_might_fail cairn config core.remote >/dev/null && cairn remote list >/dev/null &&
	cairn checkout --dry-run >/dev/null && cairn audit >/dev/null && cairn audit verify >/dev/null &&
	test "$(entries .)" = "$n" &&
	rm data/f2 &&
	cairn checkout -q &&
	test "$(entries .)" = $((n + 1)) &&
	test "$(last_field . op)" = checkout &&
	test "$(last_field . paths)" = "[{\"new\": \"$(ptr_val data.cairn id)\", \"old\": \"\", \"path\": \"data\"}]"
'

test_expect_success 'a failed command is recorded with its error; a usage error is not' '
	cd a &&
	n=$(entries .) &&
	test_must_fail cairn add no-such-path 2>err &&
	test "$(entries .)" = $((n + 1)) &&
	test "$(last_field . outcome)" = error &&
	test "$(last_field . error)" = "$(sed -n "s/^error: //p" err | head -n 1)" &&
	expect_code 129 cairn add --no-such-option &&
	expect_code 129 cairn push --jobs 0 &&
	test "$(entries .)" = $((n + 1))
'

test_expect_success 'a command that dies (fatal:) is recorded too' '
	git init -q dies && cd dies &&
	cairn init >/dev/null &&
	echo garbage >.git/index &&
	expect_code 128 cairn checkout 2>err &&
	test "$(last_field . op)" = checkout &&
	test "$(last_field . outcome)" = error &&
	test "$(last_field . error)" = "$(sed -n "s/^fatal: //p" err | tail -n 1)"
'

test_expect_success 'secrets never reach an entry: URL passwords, secret config values' '
	cd a &&
	test_must_fail cairn remote add bad "ssh://alice:pw-SEKRIT1@example.com/srv" 2>err &&
	test_grep "password" err &&
	test_must_fail cairn remote add bad2 "file://bob:pw-SEKRIT2@/srv" &&
	cairn config --local s3.secret-access-key pw-SEKRIT3 &&
	cairn config --local s3.access-key-id AKIA-SEKRIT4 &&
	test_must_fail cairn config --local remote.x.password=pw-SEKRIT5 &&
	cairn config --local --unset s3.secret-access-key &&
	cairn config --local remote.o.token pw-SEKRIT6 &&
	test_must_fail cairn remote add bad3 "https://carol:pw-SEKRIT7@example.com/x" &&
	! grep -r "SEKRIT" .cairn/audit &&
	cairn audit --json >all.json &&
	! grep "SEKRIT" all.json &&
	grep "ssh://alice:\*\*\*@example.com/srv" all.json &&
	grep "s3.secret-access-key\",\"\*\*\*\"" all.json &&
	cairn config --local --unset s3.access-key-id &&
	cairn config --local --unset remote.o.token
'

test_expect_success 'push records the remote and bytes sent, and sends the chain' '
	cd a &&
	cairn remote add -d origin "$REMOTE" &&
	git add .cairn/config && git commit -qm remote &&
	test "$(last_field . op)" = remote &&
	test "$(last_field . remote)" = origin &&
	n=$(entries .) &&
	cairn push -q &&
	test "$(entries .)" = $((n + 1)) &&
	test "$(last_field . op)" = push &&
	test "$(last_field . remote)" = origin &&
	test "$(last_field . url)" = "$REMOTE" &&
	test "$(last_field . sent)" -gt 100000 &&
	clone=$(cat .cairn/audit/clone-id) &&
	ls "$REMOTE/audit" >segs &&
	echo "$clone-000000000001-$(printf %012d $n).log" >expect &&
	test_cmp expect segs &&
	head -n $n "$(chain_log .)" >first &&
	test_cmp first "$REMOTE/audit/$clone-000000000001-$(printf %012d $n).log" &&
	cairn push -q &&
	ls "$REMOTE/audit" | wc -l >nsegs && test "$(cat nsegs)" = 2
'

test_expect_success 'a second clone pulls the chain; after its push the first sees both, merged by time' '
	git clone -q a b && cd b &&
	GIT_AUTHOR_NAME=Bob GIT_AUTHOR_EMAIL=bob@example.com cairn pull -q &&
	test "$(last_field . op)" = pull &&
	test "$(last_field . user)" = Bob &&
	test "$(last_field . received)" -gt 100000 &&
	test "$(cat .cairn/audit/clone-id)" != "$(cat ../a/.cairn/audit/clone-id)" &&
	a_log=".cairn/audit/$(cat ../a/.cairn/audit/clone-id).log" &&
	test_path_is_file "$a_log" &&
	cat "$REMOTE"/audit/$(cat ../a/.cairn/audit/clone-id)-* >all.segs &&
	test_cmp all.segs "$a_log"
'

test_expect_success 'the first clone sees both trails, newest first, and they verify' '
	cd b &&
	GIT_AUTHOR_NAME=Bob GIT_AUTHOR_EMAIL=bob@example.com cairn push -q &&
	cd ../a &&
	cairn pull -q &&
	cairn audit >list &&
	test_grep " Bob <bob@example.com> pull ok data remote origin" list &&
	test_grep " $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL> push ok data remote origin" list &&
	head -n 1 list >first && test_grep " pull ok" first && test_grep ! Bob first &&
	cut -c1-20 list >times && sort -r times >sorted && test_cmp sorted times &&
	cairn audit verify >out &&
	test_grep "^2 chains, " out &&
	cairn audit --user Bob >bob && test_line_count = 1 bob &&
	cairn audit --user bob@example && cairn audit --op push >push &&
	test_grep ! " pull " push && test_grep " push " push &&
	cairn audit --path data --op add >adds && test_line_count = 2 adds &&
	cairn audit --path data.cairn --op add >adds2 && test_cmp adds adds2 &&
	(cd data && cairn audit --path . --op add >../adds3) && test_cmp adds adds3 &&
	cairn audit --path dat >none && test_must_be_empty none &&
	cairn audit -n 2 >two && test_line_count = 2 two &&
	cairn audit --since 2000-01-01 --until 2999-12-31 >all && test_cmp list all &&
	cairn audit --until 2000-01-01 >old && test_must_be_empty old &&
	cairn audit --since "$(tail -n 1 list | cut -c1-10)" >since && test_cmp list since &&
	cairn audit --json >all.json &&
	python3 -c "
import json, sys
v = json.load(open(\"all.json\"))
assert len(v) == int(sys.argv[1]), len(v)
assert all(len(e[\"id\"]) == 64 for e in v)
assert v[0][\"time\"] >= v[-1][\"time\"]
" "$(wc -l <list)"
'

test_expect_success 'fetch, gc, install and fsck --repair are recorded; their read-only forms are not' '
	cd b &&
	n=$(entries .) &&
	rm -rf .cairn/store && cairn fetch -q &&
	test "$(last_field . op)" = fetch &&
	test "$(last_field . remote)" = origin &&
	test "$(last_field . received)" -gt 100000 &&
	test "$(last_field . paths)" = "[{\"new\": \"$(ptr_val data.cairn id)\", \"old\": \"\", \"path\": \"data\"}]" &&
	cairn gc -n -q >/dev/null && cairn fsck -q >/dev/null &&
	test "$(entries .)" = $((n + 1)) &&
	cairn gc -q >/dev/null &&
	test "$(last_field . op)" = gc &&
	cairn install >/dev/null &&
	test "$(last_field . op)" = install &&
	cairn fsck --repair -q >/dev/null &&
	test "$(last_field . op)" = fsck &&
	test "$(last_field . args)" = "[\"--repair\", \"-q\"]" &&
	test "$(entries .)" = $((n + 4)) &&
	cairn audit verify
'

test_expect_success 'show prints one entry in full, by id or unique prefix' '
	cd a &&
	id=$(last_field . prev) &&
	cairn audit show $id >full &&
	test_grep "^id        $id" full &&
	test_grep "^command   cairn push -q" full &&
	test_grep "^remote    origin $REMOTE" full &&
	cairn audit show $(echo $id | cut -c1-8) >short && test_cmp full short &&
	cairn audit show --json $id >one.json &&
	python3 -c "import json; assert json.load(open(\"one.json\"))[\"id\"] == \"$id\"" &&
	test_must_fail cairn audit show 0000ffff 2>err && test_grep "no audit entry" err &&
	test_must_fail cairn audit show xyz 2>err && test_grep "not an entry id" err &&
	expect_code 129 cairn audit show &&
	expect_code 129 cairn audit --bogus &&
	expect_code 129 cairn audit --since yesterday &&
	expect_code 129 cairn audit -n x
'

test_expect_success 'tampering: an edited field names that entry' '
	cd a &&
	log=$(chain_log .) && cp "$log" good &&
	test_when_finished "cp good \"$log\"" &&
	edit_entry "$log" 3 user Mallory &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 3 (.*): its content does not hash to its id" err &&
	cp good "$log" && edit_entry "$log" 3 user Mallory && fix_id "$log" 3 &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 3 (.*): changed: entry 4 records its id as" err &&
	cp good "$log" && edit_entry "$log" 5 outcome fine &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 5 (.*): not an audit entry" err &&
	n=$(wc -l <good) &&
	cp good "$log" && edit_entry "$log" $n user Mallory &&
	cairn config core.y 1 &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry $n (.*): its content does not hash to its id" err &&
	test "$(last_field . seq)" = $((n + 1)) &&
	cairn config --unset core.y &&
	cp good "$log" &&
	cairn audit verify
'

# swap45: the log as in "good" with entries 4 and 5 swapped.
swap45 () {
	{ sed -n 1,3p good && sed -n 5p good && sed -n 4p good && sed -n "6,\$p" good; } >"$log"
}

test_expect_success 'tampering: a removed entry, a reordering and a truncation are named' '
	cd a &&
	log=$(chain_log .) && cp "$log" good &&
	test_when_finished "cp good \"$log\"" &&
	sed 4d good >"$log" &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 4 (.*): it says seq 5: entries before it are missing" err &&
	swap45 &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 4 (.*): it says seq 5" err &&
	swap45 && rechain "$log" &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 4 (.*): it says seq 5: entries before it are missing" err &&
	size=$(size_of good) && head -c $((size - 40)) good >"$log" &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry $(wc -l <good | tr -d " "): incomplete" err &&
	sed 1d good >"$log" && rechain "$log" &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 1 (.*): it says seq 2" err &&
	cp good "$log" && cairn audit verify
'

test_expect_success 'a torn last line (a killed append) is set aside, never extended' '
	cd a &&
	log=$(chain_log .) && clone=$(cat .cairn/audit/clone-id) &&
	n=$(entries .) &&
	printf "%s" "0123abcd {\"v\":1,\"clone\":\"half an entr" >>"$log" &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry $((n + 1)): incomplete" err &&
	cairn audit >list 2>err && test_grep "ends inside an entry" err &&
	cairn config core.x 1 &&
	test "$(entries .)" = $((n + 1)) &&
	test "$(last_field . seq)" = $((n + 1)) &&
	test_path_is_file .cairn/audit/$clone.torn &&
	test_grep "half an entr" .cairn/audit/$clone.torn &&
	cairn audit verify >out 2>err &&
	test_grep "set aside in .*$clone.torn" err &&
	cairn config --unset core.x
'

test_expect_success 'entries cut off the end of a pushed chain are caught by the next push' '
	cd a &&
	log=$(chain_log .) && cp "$log" good &&
	test_when_finished "cp good \"$log\"" &&
	clone=$(cat .cairn/audit/clone-id) &&
	pushed=$(ls "$REMOTE/audit" | sed -n "s/^$clone-[0-9]*-0*\([0-9][0-9]*\)\.log\$/\1/p" | sort -n | tail -n 1) &&
	head -n $((pushed - 1)) good >"$log" &&
	cairn audit verify &&
	test_must_fail cairn push -q 2>err &&
	test_grep "the remote holds entries up to $pushed of this clone.s audit chain" err
'

test_expect_success 'four commands at once append four whole entries' '
	cd a &&
	n=$(entries .) &&
	for i in 1 2 3 4
	do
		cairn config --local test.k$i v$i &
	done &&
	wait &&
	test "$(entries .)" = $((n + 4)) &&
	cairn audit verify &&
	cairn audit -n 4 --op config >four && test_line_count = 4 four &&
	for i in 1 2 3 4
	do
		grep -c "\"test.k$i\",\"v$i\"" "$(chain_log .)" >c && test "$(cat c)" = 1 || return 1
	done
'

test_expect_success 'a chain rewritten on the remote is refused by a clone holding it' '
	cd b &&
	a_clone=$(cat ../a/.cairn/audit/clone-id) &&
	cp .cairn/audit/$a_clone.log held &&
	seg=$(ls "$REMOTE"/audit/$a_clone-000000000001-* ) &&
	chmod u+w "$seg" && cp "$seg" seg.orig &&
	edit_entry "$seg" 2 user Mallory && rechain "$seg" &&
	test_must_fail cairn pull -q 2>err &&
	test_grep "audit chain $a_clone: entry 2 received differs from the copy held here" err &&
	test_cmp held .cairn/audit/$a_clone.log &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "remote .origin.: audit chain $a_clone: entry 2 received differs" err &&
	test_path_is_dir .cairn/audit/conflicts
'

test_expect_success 'a whole chain replaced on the remote is refused too; a new clone cannot know' '
	cd b &&
	a_clone=$(cat ../a/.cairn/audit/clone-id) &&
	for f in "$REMOTE"/audit/$a_clone-*
	do
		chmod u+w "$f" && rm "$f" || return 1
	done &&
	sed 1q seg.orig >one && edit_entry one 1 host elsewhere && rechain one &&
	cp one "$REMOTE/audit/$a_clone-000000000001-000000000001.log" &&
	rm -rf .cairn/audit/conflicts &&
	test_must_fail cairn fetch -q 2>err &&
	test_grep "audit chain $a_clone: entry 1 received differs" err &&
	expect_code 1 cairn audit verify 2>err &&
	test_grep "entry 1 received differs" err &&
	cd .. && git clone -q a c && cd c &&
	cairn fetch -q &&
	test_line_count = 1 .cairn/audit/$a_clone.log
'

test_expect_success 'a segment that repeats an entry is refused as out of order' '
	a_clone=$(cat a/.cairn/audit/clone-id) &&
	rm -rf rep && cp -r "$REMOTE" rep && chmod -R u+w rep &&
	rm -f rep/audit/$a_clone-* &&
	sed -n "1p;2p;2p" "$(chain_log a)" >rep/audit/$a_clone-000000000001-000000000003.log &&
	rm -rf f && git clone -q a f && cd f &&
	cairn remote add rep "$TRASH_DIRECTORY/rep" &&
	test_must_fail cairn fetch -q -r rep 2>err &&
	test_grep "audit chain $a_clone: entry 2 received after entry 2: out of order" err &&
	! test -s .cairn/audit/$a_clone.log
'

test_expect_success 'import and export record the path, its ids and bytes' '
	cd a &&
	mkdir -p ../arc/in && make_random ../arc/in/x 30000 7 && echo y >../arc/in/y &&
	(cd ../arc && tar -cf in.tar in) &&
	cairn import -q ../arc/in.tar imported &&
	test "$(last_field . op)" = import &&
	id=$(ptr_val imported.cairn id) &&
	test "$(last_field . paths)" = "[{\"new\": \"$id\", \"old\": \"\", \"path\": \"imported\"}]" &&
	test "$(last_field . stored)" -gt 1000 &&
	cairn export -q -o ../arc/out.tar imported &&
	test "$(last_field . op)" = export &&
	test "$(last_field . paths)" = "[{\"new\": \"$id\", \"old\": \"$id\", \"path\": \"imported\"}]" &&
	test "$(last_field . sent)" = 30002 &&
	cairn audit verify
'

test_expect_success 'cairn audit -h and help show the usage' '
	cd a &&
	cairn audit -h >out &&
	test_grep "^usage: cairn audit" out &&
	cairn help audit >out &&
	test_grep "audit verify" out
'

test_done
