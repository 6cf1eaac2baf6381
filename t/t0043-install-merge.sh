#!/bin/sh

test_description='cairn install: git hooks and the merge driver for pointer files

Hooks chain to the hooks a repository already has and --uninstall removes
exactly what install added. The merge driver merges changes to different
files of one dataset with no conflict and reports a file changed on both
sides as a conflict, naming it, with both versions still reachable.'

. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	git init -q repo && cd repo &&
	cairn init &&
	mkdir -p d/s && echo x >d/x && echo y >d/y && echo z >d/s/z &&
	cairn add -q d && git add -A && git commit -qm base
'

test_expect_success 'install writes the hooks, the git config and .gitattributes' '
	cd repo &&
	write_script .git/hooks/post-merge <<-\EOF &&
	echo "the old post-merge ran" >>"$(git rev-parse --show-toplevel)/../old-hook.log"
	EOF
	cp .git/hooks/post-merge ../old-post-merge &&
	cairn install >out && test_grep "installed git hooks" out &&
	for h in post-checkout post-merge pre-push; do
		test -x .git/hooks/$h && grep -q "cairn hook" .git/hooks/$h || return 1
	done &&
	test_cmp ../old-post-merge .git/hooks/post-merge.cairn-orig &&
	test "$(git config merge.cairn.driver)" = "cairn merge-driver %O %A %B %P" &&
	grep -qx "\*.cairn merge=cairn" .gitattributes &&
	cairn install >/dev/null && test "$(grep -c "merge=cairn" .gitattributes)" = 1 &&
	git add -A && git commit -qm install
'

test_expect_success 'a branch switch brings the data of the branch (post-checkout)' '
	cd repo &&
	git checkout -q -b a && echo x2 >d/x && cairn add -q d && git commit -qam a &&
	git checkout -q main && test "$(cat d/x)" = x &&
	git checkout -q a && test "$(cat d/x)" = x2 &&
	git checkout -q main
'

test_expect_success 'disjoint changes to one dataset merge with no conflict; the old hook still runs' '
	cd repo &&
	echo y2 >d/y && echo new >d/s/n && cairn add -q d && git commit -qam b &&
	git merge -q --no-edit a &&
	test "$(cat d/x)" = x2 && test "$(cat d/y)" = y2 && test "$(cat d/s/n)" = new &&
	cairn status >st && test_grep "matches" st &&
	cairn ls d >ls && test_grep " x$" ls && test_grep " s/n$" ls &&
	test_grep "the old post-merge ran" ../old-hook.log
'

test_expect_success 'a file changed differently on both sides is a conflict naming it' '
	cd repo &&
	git checkout -q -b c HEAD~1 && echo xc >d/x && cairn add -q d && git commit -qam c &&
	test_must_fail git merge --no-edit a >out 2>&1 &&
	test_grep "CONFLICT (cairn): .d/x. was changed differently on both sides" out &&
	git ls-files -u d.cairn >unmerged && test_line_count = 3 unmerged &&
	cairn diff HEAD MERGE_HEAD >d.out && test_grep "^M  d/x" d.out &&
	git merge --abort && git checkout -q main
'

test_expect_success 'a dataset added on both sides: merged when the files differ' '
	cd repo &&
	git checkout -q -b e main && mkdir -p n && echo 1 >n/one && cairn add -q n && git add -A && git commit -qm e &&
	git checkout -q -b f main && rm -rf n && mkdir -p n && echo 2 >n/two && cairn add -q n && git add -A && git commit -qm f &&
	git merge -q --no-edit e &&
	test "$(cat n/one)" = 1 && test "$(cat n/two)" = 2 &&
	git checkout -q main
'

test_expect_success 'a symlink on one side, a name differing from it only in case on the other: refused' '
	cd repo &&
	git checkout -q -b g main && ln -s x d/L && cairn add -q d && git commit -qam g &&
	git checkout -q -b h main && echo l >d/l && cairn add -q d && git commit -qam h &&
	git rev-parse HEAD:d.cairn >before &&
	test_must_fail git merge --no-edit g >out 2>&1 &&
	test_grep "error: cannot merge .d.: \"L\" and \"l\" differ only in case, and one is a symlink" out &&
	git show :2:d.cairn | git hash-object --stdin >ours && test_cmp before ours &&
	git merge --abort && git checkout -q main
'

test_expect_success 'merge-driver with bad arguments: usage' '
	cd repo &&
	test_must_fail cairn merge-driver a b 2>err && test_grep "^usage: cairn merge-driver" err &&
	test_when_finished "rm -f bad.cairn ours.cairn theirs.cairn" &&
	echo garbage >bad.cairn && cp d.cairn ours.cairn && cp d.cairn theirs.cairn &&
	test_must_fail cairn merge-driver bad.cairn ours.cairn theirs.cairn d.cairn 2>err &&
	test_grep "^error: cannot merge" err
'

test_expect_success 'uninstall removes exactly what install added' '
	cd repo &&
	cairn install --uninstall >out && test_grep "removed" out &&
	test_path_is_missing .git/hooks/post-checkout &&
	test_path_is_missing .git/hooks/pre-push &&
	test_cmp ../old-post-merge .git/hooks/post-merge &&
	test_path_is_missing .git/hooks/post-merge.cairn-orig &&
	test_must_fail git config merge.cairn.driver &&
	test_path_is_missing .gitattributes &&
	cairn install --uninstall >/dev/null &&
	test_must_fail cairn install --frob 2>err && test_grep "^usage: cairn install" err
'

test_expect_success 'pre-push sends the data before git push' '
	cd repo && cairn install >/dev/null && git add -A && git commit -qm reinstall &&
	git init -q --bare ../bare.git && git remote add up ../bare.git &&
	cairn remote add -d origin "$TRASH_DIRECTORY/dataremote" &&
	git push -q up main &&
	test_path_is_file "$TRASH_DIRECTORY/dataremote/cairn-remote" &&
	cd .. && git clone -q bare.git cl && cd cl &&
	cairn remote add -d origin "$TRASH_DIRECTORY/dataremote" && cairn pull -q &&
	diff -r d ../repo/d
'

test_done
