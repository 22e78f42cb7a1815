#! /usr/bin/env atf-sh
# The example program of docs/library_usage.md, built with pkg-config
# against a libcastra installed by `make install` into a staging
# directory, then run on a project.

. "$(atf_get_srcdir)/common.sh"

atf_test_case installed cleanup
installed_head()
{
	atf_set descr "docs/library_usage.md's program builds against the installed library and runs"
	atf_set timeout 300
}
installed_body()
{
	# An ASan-built libcastra cannot be linked by a plain program.
	[ "$(atf_config_get sandbox strict)" = relaxed ] &&
	    atf_skip "a sanitizer build's library needs the sanitizer runtime"
	setup_env
	dest="$PWD/dest"
	# A build directory of its own: the tree's build is left as it is.
	if ! make -C "$srcdir" -j4 B="$PWD/b" WITHOUT_CLI=1 PREFIX=/usr \
	    DESTDIR="$dest" install >make.log 2>&1; then
		cat make.log
		atf_fail "make install failed"
	fi
	# WITHOUT_CLI: the library, its header and its manual, and no more.
	atf_check -o inline:"usr/include/castra.h
usr/lib/libcastra.a
usr/lib/libcastra.so
usr/lib/libcastra.so.0
usr/lib/pkgconfig/castra.pc
usr/share/man/man3/libcastra.3
" sh -c "cd '$dest' && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort"
	atf_check -o match:"^prefix=/usr\$" -o match:"^libdir=/usr/lib\$" \
	    cat "$dest/usr/lib/pkgconfig/castra.pc"

	sed -n '/^```c$/,/^```$/p' "$srcdir/docs/library_usage.md" |
	    sed '1d;$d' >vmstatus.c
	atf_check -o match:"castra_open" cat vmstatus.c
	PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig"
	PKG_CONFIG_SYSROOT_DIR="$dest"
	export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
	flags=$(pkg-config --cflags --libs castra) ||
	    atf_fail "pkg-config does not know castra"
	atf_check -o match:"-I$dest/usr/include" echo "$flags"
	atf_check cc -Wall -Wextra -Werror -o vmstatus vmstatus.c $flags
	# It runs on the installed shared library, not the tree's.
	LD_LIBRARY_PATH="$dest/usr/lib"
	export LD_LIBRARY_PATH
	atf_check -o match:"$dest/usr/lib/libcastra.so" ldd ./vmstatus

	write_conf
	atf_check -s exit:0 -e empty -o save:out ./vmstatus proj/castra.conf
	atf_check -o match:"^project demo, state in $SR, not reachable\$" \
	    -o match:"^web-0 stopped offline\$" -o match:"^db stopped offline\$" \
	    -o match:"^\{\"project\":\"demo\",\"config\":\"$PWD/proj/castra.conf\"" \
	    cat out
	atf_check -s exit:66 -o empty -e match:"nothere.conf" \
	    ./vmstatus nothere.conf
}
installed_cleanup()
{
	:
}

atf_init_test_cases()
{
	atf_add_test_case installed
}
