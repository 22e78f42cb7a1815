#! /usr/bin/env atf-sh
#
# Every fuzz target, run for a few seconds over its corpus: a crash,
# a leak or undefined behaviour fails the case.

atf_test_case fuzz_targets
fuzz_targets_head()
{
	atf_set "descr" "every fuzz target survives a short run"
	atf_set "timeout" "600"
}
fuzz_targets_body()
{
	builddir=$(atf_config_get builddir)
	srcdir=$(atf_config_get srcdir)
	seconds=$(atf_config_get fuzz_seconds 5)
	command -v clang >/dev/null || atf_skip "clang is not installed"
	[ -d "$builddir/fuzz" ] || atf_fail "no fuzz targets were built"
	cd "$srcdir" || atf_fail "no source directory"
	sh fuzz/run "$builddir" "$seconds" >fuzz.out 2>&1 ||
	    { cat fuzz.out; atf_fail "a fuzz target failed; see above"; }
}

atf_init_test_cases()
{
	atf_add_test_case fuzz_targets
}
