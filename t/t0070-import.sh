#!/bin/sh

test_description='cairn import: archives of every format libarchive reads, hostile archives refused

A source tree (files of one and of many chunks, an executable, a symlink,
a hard link, an empty directory, UTF-8 names) is archived by the real tools (GNU tar,
bsdtar, zip, 7z, cpio; gzip, bzip2, xz, zstd), imported, compared with the
source, removed and checked out again. Hostile archives, crafted here with
python, are refused naming the entry, with nothing written outside the
target (a canary file beside the repository stays as it was), nothing at
the target and no pointer; --on-bad=skip imports the rest.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi
if ! test_have_prereq SYMLINKS
then
	skip_all='this file system has no symlinks'
	test_done
fi
for tool in tar bsdtar zip unzip 7z cpio gzip bzip2 xz zstd
do
	if ! command -v $tool >/dev/null 2>&1
	then
		skip_all="$tool not found (make test-deps installs it)"
		test_done
	fi
done

CANARY=$TRASH_DIRECTORY/canary

test_expect_success 'setup: a source tree, its pointer from cairn add, a canary' '
	git init -q repo &&
	(cd repo && cairn init >/dev/null) &&
	mkdir -p src/sub/deep src/empty "src/with space" &&
	echo alpha >src/a.txt &&
	make_random src/big.bin 700000 7 &&
	: >src/zero-length &&
	printf "#!/bin/sh\necho run\n" >src/sub/run.sh &&
	chmod 755 src/sub/run.sh &&
	echo deep >src/sub/deep/d.txt &&
	echo café >src/sub/café.txt &&
	echo space >"src/with space/f" &&
	ln -s ../a.txt src/sub/link &&
	ln src/sub/deep/d.txt src/sub/hard &&
	cp -R src repo/ref &&
	(cd repo && cairn add -q ref && sed -n "s/^id: //p" ref.cairn >../ref.id) &&
	echo "do not touch" >canary &&
	cp canary canary.orig
'

# archive NAME: the source tree archived by the real tool for NAME.
archive () {
	case $1 in
	gnu.tar) tar --format=gnu -C src -cf "$1" . ;;
	pax.tar) tar --format=pax -C src -cf "$1" . ;;
	ustar.tar) tar --format=ustar -C src -cf "$1" . ;;
	bsd.tar) bsdtar -C src -cf "$1" . ;;
	v7.tar) tar --format=v7 -C src -cf "$1" . ;;
	tar.gz) tar -C src -czf "$1" . ;;
	tar.bz2) tar -C src -cjf "$1" . ;;
	tar.xz) tar -C src -cJf "$1" . ;;
	tar.zst) tar -C src --zstd -cf "$1" . ;;
	t.zip) (cd src && zip -qr --symlinks ../"$1" .) ;;
	t.7z) (cd src && 7z a -bd -snl ../"$1" . >/dev/null) ;;
	cpio) (cd src && find . | cpio -o -H newc --quiet >../"$1") ;;
	cpio.gz) (cd src && find . | cpio -o -H newc --quiet | gzip >../"$1") ;;
	iso.tar.xz) bsdtar --format=pax -C src -cJf "$1" . ;;
	*) return 1 ;;
	esac
}

for fmt in gnu.tar pax.tar ustar.tar bsd.tar v7.tar tar.gz tar.bz2 tar.xz tar.zst t.zip t.7z cpio cpio.gz
do
	test_expect_success "import of $fmt: the tree, the same id as cairn add, clean status, checkout" '
		archive $fmt &&
		name=$(echo $fmt | tr . -) &&
		(
			cd repo &&
			cairn import ../$fmt data/$name >out &&
			test_grep "imported ../$fmt into data/$name" out &&
			same_tree ../src data/$name &&
			sed -n "s/^id: //p" data/$name.cairn >id &&
			test_cmp ../ref.id id &&
			test_grep "^/$name\$" data/.gitignore &&
			cairn status data/$name >st &&
			test_grep "matches its pointer" st &&
			rm -rf data/$name &&
			cairn checkout -q data/$name &&
			same_tree ../src data/$name
		)
	'
done

test_expect_success 'import leaves no temp dir behind; status is clean' '
	(
		cd repo &&
		ls -a data >ls &&
		! grep cairn-tmp ls &&
		cairn status --json data/gnu-tar >st.json &&
		test_grep "\"state\":\"clean\"" st.json
	)
'

test_expect_success 'an existing target or pointer is refused; -f replaces' '
	(
		cd repo &&
		test_must_fail cairn import ../gnu.tar data/gnu-tar 2>err &&
		test_grep "already exists (use -f" err &&
		echo local >data/gnu-tar/a.txt &&
		cairn import -q -f ../pax.tar data/gnu-tar &&
		same_tree ../src data/gnu-tar &&
		mkdir -p data/plain && echo x >data/plain/f &&
		test_must_fail cairn import ../gnu.tar data/plain 2>err &&
		test_grep "data/plain. already exists" err &&
		test_path_is_missing data/plain.cairn &&
		echo x >expect && test_cmp expect data/plain/f
	)
'

test_expect_success '--no-checkout stores and writes the pointer only' '
	(
		cd repo &&
		cairn import -q --no-checkout ../t.zip data/nc &&
		test_path_is_file data/nc.cairn &&
		test_path_is_missing data/nc &&
		cairn checkout -q data/nc &&
		same_tree ../src data/nc &&
		cairn import -q --no-checkout ../t.zip new/dir/nc &&
		test_path_is_file new/dir/nc.cairn &&
		test_path_is_missing new/dir/nc
	)
'

test_expect_success 'import from a subdirectory, archive path relative to it' '
	(
		cd repo && mkdir -p sub && cd sub &&
		cairn import -q ../../tar.zst ../data/from-sub &&
		same_tree ../../src ../data/from-sub &&
		test_path_is_file ../data/from-sub.cairn
	)
'

test_expect_success 'usage errors exit 129; bad archives are errors' '
	(
		cd repo &&
		expect_code 129 cairn import 2>err &&
		test_grep "^usage: cairn import" err &&
		expect_code 129 cairn import ../gnu.tar 2>err &&
		expect_code 129 cairn import ../gnu.tar a b 2>err &&
		expect_code 129 cairn import --bogus ../gnu.tar data/x 2>err &&
		expect_code 129 cairn import --max-bytes lots ../gnu.tar data/x 2>err &&
		expect_code 1 cairn import ../no-such.tar data/x 2>err &&
		test_grep "cannot read .../no-such.tar." err &&
		head -c 5000 ../src/big.bin >../junk.tar &&
		expect_code 1 cairn import ../junk.tar data/x 2>err &&
		test_grep "cannot read .../junk.tar." err &&
		head -c 30000 ../tar.gz >../cut.tar.gz &&
		expect_code 1 cairn import ../cut.tar.gz data/x 2>err &&
		test_grep "error: " err &&
		expect_code 1 cairn import ../cut.tar.gz new1/new2/x 2>err &&
		test_path_is_missing new1 &&
		test_path_is_missing data/x &&
		test_path_is_missing data/x.cairn &&
		expect_code 1 cairn import ../gnu.tar .git/x 2>err &&
		expect_code 1 cairn import ../gnu.tar ref/inside 2>err &&
		test_grep "inside a tracked path" err
	)
'

test_expect_success 'import and export: -h is the SYNOPSIS of the manual; cairn help lists them' '
	(
		cd repo &&
		cairn help >list &&
		test_grep "^   import " list &&
		test_grep "^   export " list &&
		for c in import export
		do
			cairn $c -h >usage &&
			test_grep "^usage: cairn $c" usage &&
			cairn help $c >help &&
			sed -e "s/^usage: //" usage >synopsis &&
			while IFS= read -r line
			do
				test_grep -F -e "$line" help || return 1
			done <synopsis || return 1
		done
	)
'

# hostile NAME: craft archive NAME (python tarfile/zipfile): an ok.txt
# entry, then the hostile one(s) described by NAME.
hostile () {
	python3 - "$1" "$CANARY" <<-\EOF
	import io, sys, tarfile, zipfile
	name, canary = sys.argv[1], sys.argv[2]
	def tar(entries, fmt=tarfile.PAX_FORMAT):
	    with tarfile.open(name, "w", format=fmt) as t:
	        for e in [("ok.txt", "f", b"fine\n")] + entries:
	            ti = tarfile.TarInfo(e[0])
	            kind = e[1]
	            if kind == "f":
	                ti.size = len(e[2])
	                t.addfile(ti, io.BytesIO(e[2]))
	                continue
	            ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
	                       "c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE, "p": tarfile.FIFOTYPE}[kind]
	            if kind in "lh":
	                ti.linkname = e[2]
	            t.addfile(ti)
	def zip_(entries):
	    with zipfile.ZipFile(name, "w") as z:
	        z.writestr("ok.txt", b"fine\n")
	        for n, data in entries:
	            z.writestr(zipfile.ZipInfo(n), data)
	evil = b"overwritten\n"
	if name == "abs.tar": tar([(canary, "f", evil)])
	elif name == "dotdot.tar": tar([("a/../../../canary", "f", evil)])
	elif name == "dotdot.zip": zip_([("../../canary", evil)])
	elif name == "abs.zip": zip_([(canary, evil)])
	elif name == "symlink.tar": tar([("l", "l", "../.."), ("l/canary", "f", evil)])
	elif name == "symlink-dir.tar": tar([("d", "l", "/tmp"), ("d/x/y", "f", evil)])
	elif name == "hardlink-out.tar": tar([("h", "h", "../../canary")])
	elif name == "hardlink-abs.tar": tar([("h", "h", canary)])
	elif name == "hardlink-missing.tar": tar([("h", "h", "not-there")])
	elif name == "hardlink-self.tar": tar([("h", "f", b"1"), ("h", "h", "./h")])
	elif name == "chardev.tar": tar([("null", "c", None)])
	elif name == "blockdev.tar": tar([("sda", "b", None)])
	elif name == "fifo.tar": tar([("fifo", "p", None)])
	elif name == "dup-file-dir.tar": tar([("x", "f", b"1"), ("x", "d", None)])
	elif name == "dup-dir-file.tar": tar([("x", "d", None), ("x", "f", b"1")])
	elif name == "dup-link-file.tar": tar([("x", "l", "ok.txt"), ("x", "f", b"1")])
	elif name == "below-file.tar": tar([("x", "f", b"1"), ("x/y", "f", b"2")])
	elif name == "git.tar": tar([("sub/.git/config", "f", evil)])
	elif name == "cairn.tar": tar([(".cairn/config", "f", evil)])
	elif name == "pointer.tar": tar([("sub/x.cairn", "f", evil)])
	elif name == "badutf8.tar":
	    tar([(b"bad\xff\xfe".decode("utf-8", "surrogateescape"), "f", evil)], fmt=tarfile.GNU_FORMAT)
	else: sys.exit("unknown hostile archive " + name)
	EOF
}

for case in \
	"abs.tar:$CANARY:an absolute path" \
	"abs.zip:$CANARY:an absolute path" \
	"dotdot.tar:a/../../../canary:a .... component" \
	"dotdot.zip:../../canary:a .... component" \
	"symlink.tar:l/canary:through the symlink .l." \
	"symlink-dir.tar:d/x/y:through the symlink .d." \
	"hardlink-out.tar:h:outside the target" \
	"hardlink-abs.tar:h:outside the target" \
	"hardlink-missing.tar:h:not in the archive before it" \
	"hardlink-self.tar:h:a hard link to itself" \
	"chardev.tar:null:character device" \
	"blockdev.tar:sda:block device" \
	"fifo.tar:fifo:a FIFO" \
	"dup-file-dir.tar:x/:a directory where the archive already has a file" \
	"dup-dir-file.tar:x:a file where the archive already has a directory" \
	"dup-link-file.tar:x:a file where the archive already has a symlink" \
	"below-file.tar:x/y:below the file .x." \
	"git.tar:sub/.git/config:.\.git. is a name cairn never writes" \
	"cairn.tar:.cairn/config:.\.cairn. is a name cairn never writes" \
	"pointer.tar:sub/x.cairn:a cairn pointer file name" \
	"badutf8.tar:bad\\\\xff\\\\xfe:not valid UTF-8"
do
	file=${case%%:*}
	rest=${case#*:}
	entry=${rest%%:*}
	why=${rest#*:}
	test_expect_success "hostile $file: refused naming '$entry', canary intact, nothing left" '
		hostile $file &&
		(
			cd repo &&
			ls -a data >before &&
			test_must_fail cairn import ../$file data/h 2>err &&
			test_grep "refusing entry .$entry. of .\.\./$file.: .*$why" err &&
			test_path_is_missing data/h &&
			test_path_is_missing data/h.cairn &&
			ls -a data >after &&
			test_cmp before after
		) &&
		test_cmp canary.orig canary &&
		test_path_is_missing evil &&
		test_path_is_missing ../canary
	'
	test_expect_success "hostile $file with --on-bad=skip: the rest is imported" '
		(
			cd repo &&
			cairn import --on-bad=skip ../$file data/skip >out 2>err &&
			test_grep "warning: skipping entry .$entry." err &&
			test_grep "1 entries skipped" out &&
			echo fine >expect &&
			test_cmp expect data/skip/ok.txt &&
			cairn status data/skip >st &&
			test_grep "matches its pointer" st &&
			rm -rf data/skip data/skip.cairn
		) &&
		test_cmp canary.orig canary
	'
done

test_expect_success 'a hard link inside the archive is a copy of its file' '
	python3 - <<-\EOF &&
	import io, tarfile
	with tarfile.open("hard.tar", "w") as t:
	    ti = tarfile.TarInfo("f"); ti.size = 5; t.addfile(ti, io.BytesIO(b"data\n"))
	    ti = tarfile.TarInfo("g"); ti.type = tarfile.LNKTYPE; ti.linkname = "f"; t.addfile(ti)
	EOF
	(
		cd repo &&
		cairn import -q ../hard.tar data/hard &&
		echo data >expect &&
		test_cmp expect data/hard/g &&
		cairn ls data/hard >ls &&
		test_grep "g" ls &&
		cairn status data/hard >st &&
		test_grep matches st
	)
'

test_expect_success 'a duplicate entry of the same type: the last one wins' '
	python3 - <<-\EOF &&
	import io, tarfile
	with tarfile.open("dup.tar", "w") as t:
	    for data in (b"first\n", b"second\n"):
	        ti = tarfile.TarInfo("f"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
	EOF
	(
		cd repo &&
		cairn import -q ../dup.tar data/dup &&
		echo second >expect &&
		test_cmp expect data/dup/f &&
		cairn status data/dup >st &&
		test_grep matches st
	)
'

test_expect_success 'a name with a NUL: libarchive cuts it there, nothing escapes' '
	python3 - "$CANARY" <<-\EOF &&
	import sys, tarfile
	# a pax "path" record holding a NUL, written by hand
	body = b" path=ok\x00/../../canary\n"
	n = len(body) + 2
	rec = str(n).encode() + body
	assert len(rec) == n
	hdr = tarfile.TarInfo("PaxHeader/x"); hdr.type = tarfile.XHDTYPE; hdr.size = len(rec)
	buf = hdr.tobuf(format=tarfile.USTAR_FORMAT) + rec + b"\0" * (512 - len(rec))
	f = tarfile.TarInfo("placeholder"); f.size = 5
	buf += f.tobuf(format=tarfile.USTAR_FORMAT) + b"evil\n" + b"\0" * 507 + b"\0" * 1024
	open("nul.tar", "wb").write(buf)
	EOF
	(
		cd repo &&
		cairn import -q ../nul.tar data/nul &&
		ls data/nul >ls &&
		echo ok >expect &&
		test_cmp expect ls
	) &&
	test_cmp canary.orig canary
'

test_expect_success 'bombs: the total size cap (option and import.maxBytes)' '
	mkdir bomb && make_random bomb/f 300000 3 &&
	tar -C bomb -cf bomb.tar . &&
	(
		cd repo &&
		test_must_fail cairn import --max-bytes 100k ../bomb.tar data/b 2>err &&
		test_grep "refusing entry .\./f. of .\.\./bomb.tar.: the archive expands beyond 102400 bytes (import.maxBytes)" err &&
		test_path_is_missing data/b &&
		test_path_is_missing data/b.cairn &&
		cairn config import.maxBytes 200k &&
		test_must_fail cairn import ../bomb.tar data/b 2>err &&
		test_grep "beyond 204800 bytes" err &&
		cairn import -q --max-bytes 1m ../bomb.tar data/b &&
		cairn config --unset import.maxBytes
	)
'

test_expect_success 'bombs: the expansion ratio cap (option, import.maxRatio, default)' '
	mkdir zeros &&
	dd if=/dev/zero of=zeros/z bs=1M count=80 2>/dev/null &&
	tar -C zeros --zstd -cf zeros.tar.zst . &&
	rm -rf zeros &&
	test $(size_of zeros.tar.zst) -lt 80000 &&
	(
		cd repo &&
		test_must_fail cairn import ../zeros.tar.zst data/z 2>err &&
		test_grep "expands more than 1000 times its size (import.maxRatio)" err &&
		test_path_is_missing data/z &&
		test_must_fail cairn import --max-ratio 10 ../zeros.tar.zst data/z 2>err &&
		test_grep "expands more than 10 times" err &&
		cairn config import.maxRatio 0 &&
		cairn import -q --no-checkout ../zeros.tar.zst data/z &&
		test_path_is_file data/z.cairn &&
		cairn config --unset import.maxRatio
	)
'


test_expect_success 'the temp directory of a killed import is removed by the next import' '
	(
		cd repo &&
		{ sh -c "exit 0" & } && dead=$! && wait $dead &&
		mkdir -p data/.cairn-tmp-$dead-import/sub &&
		echo half >data/.cairn-tmp-$dead-import/sub/f &&
		mkdir -p data/.cairn-tmp-$$-import &&
		cairn import -q ../gnu.tar data/after-kill &&
		test_path_is_missing data/.cairn-tmp-$dead-import &&
		test_path_is_dir data/.cairn-tmp-$$-import &&
		rmdir data/.cairn-tmp-$$-import &&
		same_tree ../src data/after-kill
	)
'

test_done
