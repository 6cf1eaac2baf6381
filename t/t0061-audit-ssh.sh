#!/bin/sh

test_description='cairn audit: two clones merge their trails over ssh

Two clones push to and pull from a remote on the test sshd; each ends
with both chains, which verify and list merged by time. A segment
rewritten on the server is refused by the clone that holds the chain.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"
. "$TEST_DIRECTORY/lib-sshd.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_expect_success 'a remote without audit/ (pushed by an older cairn) still pulls' '
	chmod -R u+w "$SSH_ROOT/proj/audit" && rm -rf "$SSH_ROOT/proj/audit" &&
	git clone -q a c && cd c &&
	cairn pull -q &&
	cmp data/f ../a/data/f &&
	test "$(ls .cairn/audit/*.log)" = ".cairn/audit/$(cat .cairn/audit/clone-id).log"
'

test_done
fi

start_sshd

test_expect_success 'setup: clone a adds and pushes over ssh; clone b pulls' '
	git init -q a && cd a &&
	cairn init >/dev/null &&
	mkdir data && make_random data/f 50000 1 &&
	cairn add -q data &&
	cairn remote add -d origin "testhost:$SSH_ROOT/proj" &&
	git add -A && git commit -qm v1 &&
	cairn push -q &&
	ls "$SSH_ROOT/proj/audit" >segs && test_line_count = 1 segs &&
	cd .. && git clone -q a b && cd b &&
	GIT_AUTHOR_NAME=Bob GIT_AUTHOR_EMAIL=bob@example.com cairn pull -q &&
	cmp data/f ../a/data/f
'

test_expect_success 'after b pushes and a pulls, both hold both chains, and they verify' '
	(cd b && GIT_AUTHOR_NAME=Bob GIT_AUTHOR_EMAIL=bob@example.com cairn push -q) &&
	(cd a && cairn pull -q) &&
	(cd b && cairn fetch -q) &&
	a_clone=$(cat a/.cairn/audit/clone-id) &&
	b_clone=$(cat b/.cairn/audit/clone-id) &&
	test "$a_clone" != "$b_clone" &&
	for d in a b
	do
		test_path_is_file $d/.cairn/audit/$a_clone.log &&
		test_path_is_file $d/.cairn/audit/$b_clone.log &&
		(cd $d && cairn audit verify >../verify.$d) &&
		test_grep "^2 chains" verify.$d || return 1
	done &&
	(cd a && cairn audit) >list &&
	test_grep " Bob <bob@example.com> pull ok data remote origin" list &&
	test_grep " $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL> add ok data" list &&
	cut -c1-20 list >times && sort -r times >sorted && test_cmp sorted times &&
	(cd a && cairn audit --op push --json) >push.json &&
	python3 -c "
import json
v = json.load(open(\"push.json\"))
assert v and all(e[\"url\"].startswith(\"testhost:\") or e[\"url\"].startswith(\"ssh://\") for e in v), v
"
'

test_expect_success 'a segment rewritten on the server is refused by b' '
	a_clone=$(cat a/.cairn/audit/clone-id) &&
	seg=$(ls "$SSH_ROOT"/proj/audit/$a_clone-000000000001-*) &&
	chmod u+w "$seg" &&
	sed "s/\"op\":\"init\"/\"op\":\"tnit\"/" "$seg" >seg.new && cat seg.new >"$seg" &&
	cp b/.cairn/audit/$a_clone.log held &&
	(cd b && test_must_fail cairn fetch -q 2>../err) &&
	test_grep "audit chain $a_clone" err &&
	test_cmp held b/.cairn/audit/$a_clone.log &&
	(cd b && expect_code 1 cairn audit verify 2>../err) &&
	test_grep "audit chain $a_clone" err
'

test_expect_success 'a remote without audit/ (pushed by an older cairn) still pulls' '
	chmod -R u+w "$SSH_ROOT/proj/audit" && rm -rf "$SSH_ROOT/proj/audit" &&
	git clone -q a c && cd c &&
	cairn pull -q &&
	cmp data/f ../a/data/f &&
	test "$(ls .cairn/audit/*.log)" = ".cairn/audit/$(cat .cairn/audit/clone-id).log"
'

test_done
