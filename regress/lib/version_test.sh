#! /usr/bin/env atf-sh
#
# castra --version: the release and the commit the binary was built
# from inside a git checkout, the release alone when built outside one.

atf_test_case checkout
checkout_head()
{
	atf_set descr "castra --version and -V name the commit of the build"
}
checkout_body()
{
	bindir=$(atf_config_get bindir)
	srcdir=$(atf_config_get srcdir)
	atf_check -o save:long $bindir/castra --version
	atf_check -o save:short $bindir/castra -V
	atf_check cmp long short
	atf_check -o match:'^castra 0\.1\.0( \([0-9a-f]{7,40}\))?$' cat long
	atf_check -o inline:"1\n" sh -c "wc -l <long"
	if ! command -v git >/dev/null ||
	    ! git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		atf_check -o inline:"castra 0.1.0\n" cat long
		return
	fi
	sha=$(sed -n 's/^castra 0\.1\.0 (\([0-9a-f]*\))$/\1/p' long)
	[ -n "$sha" ] ||
	    atf_fail "built in a checkout, but no commit: $(cat long)"
	# The commit it was built from, if not the newest one.
	atf_check git -C "$srcdir" cat-file -e "$sha^{commit}"
}

atf_test_case release
release_head()
{
	atf_set descr "built from a copy of the tree without .git, castra" \
	    "--version prints the release alone"
	atf_set timeout 300
	atf_set require.progs "make tar"
}
release_body()
{
	srcdir=$(atf_config_get srcdir)
	case "$(pwd)" in
	"$srcdir"/*) atf_skip "the work directory is inside the source tree" ;;
	esac
	mkdir src
	(cd "$srcdir" && tar --exclude=./build --exclude='./build-*' \
	    --exclude=./.git -cf - .) | tar -C src -xf - ||
	    atf_fail "cannot copy the tree"
	git -C src rev-parse --git-dir >/dev/null 2>&1 &&
	    atf_skip "the work directory is inside another git checkout"
	if ! make -C src -j4 B="$(pwd)/b" "$(pwd)/b/bin/castra" \
	    >make.log 2>&1; then
		cat make.log
		atf_fail "make failed"
	fi
	atf_check -o inline:"castra 0.1.0\n" b/bin/castra --version
	atf_check -o inline:"castra 0.1.0\n" b/bin/castra -V
}

atf_init_test_cases()
{
	atf_add_test_case checkout
	atf_add_test_case release
}
