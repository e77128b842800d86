#!/usr/bin/perl
# TARGETS names exactly what "make" builds, and "make clean" removes
# exactly that: build a copy of the source tree and compare.
# fuzz/TARGETS names what "make fuzz-build" builds besides (checked too
# when clang is installed).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Copy qw(copy);
use File::Find;
use FindBin;

my $top = "$FindBin::Bin/..";
chdir $top or die "chdir $top: $!";
plan skip_all => 'not a git checkout: the source list comes from git'
  unless -d '.git' && system('git rev-parse --git-dir >/dev/null 2>&1') == 0;

# sources: tracked files plus new ones not ignored (the build products are)
my @src = grep { -f $_ } split /\0/, `git ls-files -z -co --exclude-standard`;
ok(@src > 10, 'source list from git');

my $dir = tempdir(CLEANUP => 1);
for my $f (@src) {
  (my $d = "$dir/$f") =~ s{/[^/]*$}{};
  make_path($d);
  copy($f, "$dir/$f") or die "copy $f: $!";
  chmod((stat $f)[2] & 07777, "$dir/$f");
}

sub files_in {
  my ($root) = @_;
  my @all;
  find({ no_chdir => 1, wanted => sub {
    return if -d $_;
    (my $rel = $File::Find::name) =~ s{^\Q$root\E/}{};
    push @all, $rel;
  } }, $root);
  return sort @all;
}

my %is_src = map { $_ => 1 } @src;
my $out = `make -C '$dir' 2>&1`;
is($?, 0, 'make succeeds in a fresh copy') or diag $out;
unlike($out, qr/warning:/, 'the build is warning-free') or diag join "\n", grep /warning:/, split /\n/, $out;

my @built = grep { !$is_src{$_} } files_in($dir);
sub listed {
  my ($file) = @_;
  open my $fh, '<', $file or die "$file: $!";
  return sort grep { length && !/^#/ } map { chomp; $_ } <$fh>;
}
my @targets = listed('TARGETS');
is_deeply(\@built, \@targets, 'TARGETS lists exactly the files make builds');

SKIP: {
  skip 'clang is not installed: fuzz-build not checked', 2
    unless grep { -x "$_/clang" } split /:/, $ENV{PATH} // '';
  $out = `make -C '$dir' fuzz-build 2>&1`;
  is($?, 0, 'make fuzz-build succeeds in the copy') or diag $out;
  is_deeply([grep { !$is_src{$_} } files_in($dir)], [sort @targets, listed('fuzz/TARGETS')],
    'fuzz/TARGETS lists exactly the files make fuzz-build builds besides');
}

# No program includes another program's folder: a quoted include names
# a header of the file's own folder or of common/, and the Makefile
# gives program objects no -I of a program folder (only a unit test
# may see the folder it tests).
my @progdirs = qw(relaydb smtp-delay rblenv rcptchecks smtp-tls proxy-env smtp-forward report);
my @stray;
for my $f (grep { m{^(?:[\w-]+)/[^/]+\.[ch]$} } @src) {
  my ($d) = $f =~ m{^([\w-]+)/};
  next unless grep { $_ eq $d } @progdirs, 'common';
  open my $fh, '<', $f or die "$f: $!";
  while (<$fh>) {
    my ($h) = /^\s*#\s*include\s+"([^"]+)"/ or next;
    push @stray, "$f: $h" unless -f "$d/$h" || -f "common/$h";
  }
}
is_deeply(\@stray, [], 'no source includes a header from another program\'s folder') or diag join "\n", @stray;
{
  open my $fh, '<', 'Makefile' or die "Makefile: $!";
  my @bad = grep { /^CPPFLAGS\s*[+:]?=.*-I(?!common\b|\/)/ || m{^(?:[\w-]+)/%\.o:.*-I} } <$fh>;
  is_deeply(\@bad, [], 'the Makefile gives program objects -Icommon only') or diag @bad;
}

$out = `make -C '$dir' clean 2>&1`;
is($?, 0, 'make clean succeeds') or diag $out;
is_deeply([files_in($dir)], [sort @src], 'make clean leaves exactly the sources');

done_testing;
