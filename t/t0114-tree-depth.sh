#!/bin/sh

test_description='trees nest at most 4096 levels

Valid stored trees 4096, 4097, 60,000 and 100,000 levels deep are
planted (t/helper/plant-tree --deep: one directory per level, one file
at the bottom) in the local store and, as push would refuse to send
them, as a pack on a directory remote. At the limit, fsck, gc, ls,
diff, export, push and fetch work. Beyond it, fsck, fsck
--rebuild-index, gc, ls, diff (with the work tree and between
revisions), checkout, export, push and pull each stop with an error:
line naming the depth and exit 1 (a crash would exit with 128 + the
signal), and nothing is deleted, written or sent. cairn never makes
such a tree either: add refuses a directory 4,097 levels deep on disk,
and import refuses a tar with a path 4,097 or 60,000 directories deep
(the latter took minutes and gigabytes before: finding the parents of a
path compared every prefix of it).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

DEEP_MSG="is deeper than 4096 levels"

# refused CMD...: CMD fails cleanly (exit 1 to 128, never a signal) with
# an error: line about the depth.
refused () {
	test_must_fail "$@" >out 2>err &&
	test_grep "^error: .*$DEEP_MSG" err
}

# store_state: the names of the packs of the local store
store_state () {
	ls .cairn/store/packs | LC_ALL=C sort
}

# make_tar FILE DEPTH: a tar holding one file DEPTH path components deep
# (DEPTH - 1 directories "d", then "f").
make_tar () {
	python3 -c '
import io, sys, tarfile
depth = int(sys.argv[2])
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("/".join(["d"] * (depth - 1) + ["f"]))
    ti.size = 5
    t.addfile(ti, io.BytesIO(b"deep\n"))
' "$1" "$2"
}

test_expect_success 'setup: a repository with a dataset and a directory remote' '
	git init -q --bare origin.git &&
	git init -q A &&
	(
		cd A &&
		cairn init >/dev/null &&
		mkdir small &&
		echo hello >small/a &&
		cairn add -q small &&
		cairn remote add -d origin "$TRASH_DIRECTORY/rdir" &&
		git add -A && git commit -qm small &&
		git remote add origin ../origin.git &&
		git push -q origin HEAD:main &&
		cairn push -q
	)
'

test_expect_success 'a tree 4096 levels deep: fsck, ls, diff, export, gc and push work' '
	(
		cd A &&
		plant-tree --deep lim.cairn 4096 &&
		git add lim.cairn && git commit -qm lim &&
		cairn fsck -q &&
		cairn ls lim >ls.out &&
		test_line_count = 1 ls.out &&
		test_grep "  d/.*/d/f\$" ls.out &&
		test "$(sed "s/.*  //; s|[^/]||g" ls.out | wc -c)" = 4096 &&
		cairn diff HEAD~1 HEAD >diff.out &&
		test_grep "lim" diff.out &&
		cairn export -o ../lim.tar lim &&
		cairn gc -q &&
		cairn fsck -q &&
		cairn push -q &&
		git push -q origin HEAD:main
	) &&
	tar -tf lim.tar >lim.list &&
	test_line_count = 4096 lim.list
'

test_expect_success 'a tree 4096 levels deep: another clone fetches it' '
	git clone -q origin.git B &&
	(
		cd B &&
		cairn fetch -q lim &&
		cairn ls lim >ls.out &&
		test_line_count = 1 ls.out &&
		cairn fsck -q
	)
'

test_expect_success 'a directory 200 levels deep: added, changed and added again, both versions check out' '
	python3 -c "
import os
p = os.path.join(\"A\", \"tall200\", *[\"d\"] * 199)
os.makedirs(p)
open(os.path.join(p, \"f\"), \"w\").write(\"one\\n\")
open(os.path.join(p, \"..\", \"g\"), \"w\").write(\"two\\n\")
" &&
	(
		cd A &&
		cairn add -q tall200 &&
		git add tall200.cairn && git commit -qm tall200 &&
		cp -R tall200 ../tall200.v1 &&
		f=$(find tall200 -name f) &&
		echo changed >>"$f" &&
		cairn add -q tall200 &&
		git commit -qam tall200.v2 &&
		cp -R tall200 ../tall200.v2 &&
		cairn checkout -q -f --rev HEAD~1 tall200 &&
		diff -r ../tall200.v1 tall200 &&
		cairn checkout -q -f tall200 &&
		diff -r ../tall200.v2 tall200 &&
		cairn fsck -q
	)
'

for depth in 4097 60000 100000
do
	test_expect_success "a tree $depth levels deep: planted in the local store" '
		git init -q D$depth &&
		(
			cd D$depth &&
			cairn init >/dev/null &&
			echo x >x && cairn add -q x &&
			cairn remote add origin "$TRASH_DIRECTORY/r$depth" &&
			git add -A && git commit -qm x &&
			cairn push -q &&
			plant-tree --deep deep.cairn $depth &&
			git add deep.cairn && git commit -qm deep
		)
	'

	test_expect_success "a tree $depth levels deep: fsck and gc refuse, gc deletes nothing" '
		(
			cd D$depth &&
			store_state >../before &&
			refused cairn fsck &&
			refused cairn gc &&
			store_state >../after &&
			test_cmp ../before ../after &&
			refused cairn fsck --rebuild-index
		)
	'

	test_expect_success "a tree $depth levels deep: ls, diff and export refuse" '
		(
			cd D$depth &&
			refused cairn ls deep &&
			test_must_be_empty out &&
			refused cairn diff &&
			refused cairn diff HEAD~1 HEAD &&
			refused cairn export -o ../deep.tar deep &&
			test_might_fail cairn log deep >/dev/null 2>&1
		)
	'

	test_expect_success "a tree $depth levels deep: checkout refuses and writes nothing" '
		(
			cd D$depth &&
			refused cairn checkout deep &&
			test_path_is_missing deep &&
			refused cairn checkout &&
			test_path_is_missing deep
		)
	'

	test_expect_success "a tree $depth levels deep: push refuses and sends nothing" '
		ls r$depth/packs >before &&
		(cd D$depth && refused cairn push) &&
		ls r$depth/packs >after &&
		test_cmp before after
	'
done

test_expect_success 'the merge driver merges trees side by side to the limit, and no further' '
	(
		cd D4097 &&
		plant-tree --deep b.cairn 100 &&
		plant-tree --deep o.cairn 101 &&
		plant-tree --deep t.cairn 102 &&
		cairn merge-driver b.cairn o.cairn t.cairn m.cairn &&
		cp o.cairn m.cairn &&
		cairn ls m >ls.out &&
		test_line_count = 2 ls.out &&
		printf "100\n101\n" >expect &&
		sed "s/.*  //; s|[^/]||g" ls.out | awk "{ print length }" | sort >actual &&
		test_cmp expect actual &&
		plant-tree --deep b.cairn 60000 &&
		plant-tree --deep o.cairn 60001 &&
		plant-tree --deep t.cairn 60002 &&
		cp o.cairn o.before &&
		refused cairn merge-driver b.cairn o.cairn t.cairn m.cairn &&
		test_cmp o.before o.cairn
	)
'

test_expect_success 'a tree 60000 levels deep on the remote: pull refuses it' '
	git clone -q origin.git P &&
	(
		cd P &&
		plant-tree --deep deep.cairn 60000 "$TRASH_DIRECTORY/rdir/packs" >pack &&
		test_line_count = 1 pack &&
		git add deep.cairn && git commit -qm deep &&
		git push -q origin HEAD:deep
	) &&
	git clone -q -b deep origin.git V &&
	(
		cd V &&
		refused cairn pull &&
		test_path_is_missing deep &&
		refused cairn fetch deep &&
		cairn pull small &&
		test_path_is_file small/a
	)
'

test_lazy_prereq FDS_4200 '
	ulimit -n 4200 2>/dev/null && test "$(ulimit -n)" -ge 4200
'

test_expect_success 'add refuses a directory deeper than 4096 levels on disk' '
	python3 -c "
import os
fd = os.open(\".\", os.O_RDONLY)
for name in [\"tall\"] + [\"d\"] * 4097:
    os.mkdir(name, dir_fd=fd)
    nfd = os.open(name, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = nfd
with open(os.open(\"f\", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), \"w\") as f:
    f.write(\"deep\\n\")
" &&
	mv tall A/ &&
	(
		cd A &&
		store_state >../before &&
		if test_have_prereq FDS_4200
		then
			ulimit -n 4200 && refused cairn add tall
		else
			# each level is an open directory: the file limit may come first
			test_must_fail cairn add tall 2>err && test_grep "^error: " err
		fi &&
		test_path_is_missing tall.cairn &&
		store_state >../after &&
		test_cmp ../before ../after
	)
'

test_expect_success 'import refuses paths deeper than 4096 levels, fast' '
	make_tar deep4096.tar 4096 &&
	make_tar deep4097.tar 4097 &&
	make_tar deep60000.tar 60000 &&
	(
		cd A &&
		refused cairn import ../deep60000.tar im &&
		test_grep "refusing entry .*deep60000.tar.*: it $DEEP_MSG" err &&
		test_path_is_missing im &&
		test_path_is_missing im.cairn &&
		refused cairn import --no-checkout ../deep4097.tar im &&
		test_path_is_missing im.cairn &&
		cairn import -q --no-checkout ../deep4096.tar im &&
		cairn ls im >ls.out &&
		test_line_count = 1 ls.out &&
		cairn fsck -q
	)
'

test_done
