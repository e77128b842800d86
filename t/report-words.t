#!/usr/bin/perl
# Every result= word a program can log is one the report knows, and every
# word the report knows is one the program can log: read out of the C
# sources of each program the Makefile links (and report/logline.c's
# table of words), so that a new result word the report does not count
# fails here, not in an administrator's figures.
#
# Where a program's result words are, in its sources (comments removed):
#   - "...result=WORD..." inside a string literal;
#   - the words of the expression that follows a literal ending in
#     "result=" (mx_info(ip, " result=", late ? "late" : "refused"));
#   - the words of an assignment to, or a return or comparison of, a
#     variable or field named result, or a return of what a function
#     named ..._result gives (result = "clean" ; return result ? result
#     : "poll-error" ; strcmp(result, "client-gone"));
#   - the words assigned to a field that carries the result (below):
#     v->close = failures ? "lookups-failed" : "too-many-unknown";
#   - the words passed to a function in the place of a parameter that
#     becomes the result: one assigned to result, logged after
#     "result=", stored in a field that such a function is later given
#     (a->close = close ... finish(a->close)), or handed on to another
#     such function (last_word(reply, why) calls finish(why)).
# A word is a literal of lower-case letters, digits and inner hyphens.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();

# ---------------------------------------------------------------------------
# the report's words: report/logline.c's progs[] and rules[]

my $logline = slurp("$top/report/logline.c") // die "report/logline.c: $!";
my ($progs) = $logline =~ /\bprogs\[\]\s*=\s*\{([^}]*)\}/ or die 'no progs[] in report/logline.c';
my @progs = $progs =~ /"([^"]+)"/g;
my %array = map { $_->[0] => [ $_->[1] =~ /"([^"]+)"/g ] }
  map { [ /(\w+)\[\]\s*=\s*\{([^}]*)\}/ ] } $logline =~ /static char const \*const \w+\[\]\s*=\s*\{[^}]*\}/g;
my ($rules) = $logline =~ /\brules\[\]\s*=\s*\{(.*?)\n\}\s*;/s or die 'no rules[] in report/logline.c';
my %report;    # prog => { word => kind }
for my $row ($rules =~ /\{([^{}]*)\}/g) {
  my ($prog, $rcpt, $words, $kind) = map { s/^\s+|\s+$//gr } split /,/, $row;
  next if $prog eq '0';
  $prog =~ s/"//g;
  die "rules[]: no word list $words" unless $array{$words};
  $report{$prog}{$_} = $kind for @{ $array{$words} };
}
ok(@progs >= 8, 'the report knows ' . @progs . ' programs: ' . join ' ', @progs);
is_deeply([sort keys %report], [sort @progs], 'rules[] has words for every program of progs[], and for no other');

# ---------------------------------------------------------------------------
# the programs' sources, as the Makefile links them

my $makefile = slurp("$top/Makefile") // die "Makefile: $!";
my %var;
while ($makefile =~ /^(\w+)\s*=\s*(.*(?:\\\n.*)*)$/mg) { (my $v = $2) =~ s/\\\n/ /g; $var{$1} = $v }
sub expand {
  my ($s, $depth) = @_;
  die "Makefile variables nest too deep" if $depth > 10;
  $s =~ s/\$\((\w+)\)/expand($var{$1} \/\/ '', $depth + 1)/ge;
  return $s;
}

# the .c files of program $dir/$prog's objects (those with a .c beside them)
sub sources_of {
  my ($path) = @_;
  my ($deps) = $makefile =~ /^\Q$path\E:([^\n]*)$/m or return;
  my %seen;
  return grep { -f "$top/$_" && !$seen{$_}++ } map { s/\.o$/.c/r } grep { /\.o$/ } split ' ', expand($deps, 0);
}

my %dir_of = (map({ $_ => $_ } qw(smtp-delay rblenv rcptchecks smtp-tls proxy-env smtp-forward smtp-screen)),
  'relaydb-check' => 'relaydb', 'relaydb-rec' => 'relaydb');

# C text without comments, string literals kept intact, character
# constants as 0 (a quote in one would open a string to the scanners below)
sub uncomment {
  my ($c) = @_;
  $c =~ s{("(?:[^"\\\n]|\\.)*")|('(?:[^'\\\n]|\\.)*')|/\*.*?\*/|//[^\n]*}{defined $1 ? $1 : defined $2 ? "0" : ' '}gse;
  return $c;
}

my $WORD = qr/[a-z][a-z0-9]*(?:-[a-z0-9]+)*/;
sub words_in { my ($expr) = @_; return grep { /^$WORD$/ } $expr =~ /"((?:[^"\\]|\\.)*)"/g }

# the arguments of every call to $name in $text: [args...] per call,
# split at top-level commas (strings and nested parentheses respected)
sub calls {
  my ($text, $name) = @_;
  my @calls;
  while ($text =~ /(?<![\w.>])\Q$name\E\s*\(/g) {
    my $pos = pos $text;
    my ($depth, $cur, @args) = (1, '');
    while ($pos < length $text && $depth) {
      if (substr($text, $pos) =~ /\A("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/) { $cur .= $1; $pos += length $1; next }
      my $ch = substr $text, $pos++, 1;
      if ($ch eq '(') { $depth++ } elsif ($ch eq ')') { last unless --$depth }
      if ($ch eq ',' && $depth == 1) { push @args, $cur; $cur = ''; next }
      $cur .= $ch;
    }
    push @args, $cur;
    s/^\s+|\s+$//g for @args;
    push @calls, \@args;
  }
  return @calls;
}

# function definitions: name => [[params], body]
sub functions {
  my ($text) = @_;
  my %f;
  while ($text =~ /^[A-Za-z_][\w \t*]*?\b(\w+)\s*\(([^()]*)\)\s*\{/mg) {
    my ($name, $params, $start) = ($1, $2, pos $text);
    my ($depth, $pos) = (1, $start);
    while ($pos < length $text && $depth) {
      my $ch = substr $text, $pos++, 1;
      if ($ch eq '"') { substr($text, $pos - 1) =~ /\A("(?:[^"\\]|\\.)*")/; $pos += length($1) - 1; next }
      $depth++ if $ch eq '{';
      $depth-- if $ch eq '}';
    }
    $f{$name} = [[map { /(\w+)\s*(?:\[\s*\])?\s*$/ ? $1 : '' } split /,/, $params], substr($text, $start, $pos - $start - 1)];
  }
  return %f;
}

sub program_words {
  my ($prog) = @_;
  my @src = sources_of("$dir_of{$prog}/$prog") or return;
  my $text = join "\n", map { uncomment(slurp("$top/$_") // die "$_: $!") } @src;
  my %w;
  my $add = sub { $w{$_} = 1 for @_ };
  # "...result=WORD..."
  $add->(/result=($WORD)/g) for $text =~ /"((?:[^"\\]|\\.)*)"/g;
  # "... result=", EXPR
  while ($text =~ /result="\s*,([^;]*?)(?:,\s*"\s|\)\s*;)/g) { $add->(words_in($1)) }
  # result = EXPR ; return ...result... ; strcmp(result, "WORD")
  $add->(words_in($1)) while $text =~ /\bresult\s*=(?!=)([^;]*);/g;
  $add->(words_in($1)) while $text =~ /\breturn\b([^;]*\b\w*result\b[^;]*);/g;
  $add->($1) while $text =~ /\bstrcmp\s*\(\s*[\w.>-]*\bresult\s*,\s*"($WORD)"\s*\)/g;
  # functions with a parameter that becomes the result, to a fixpoint
  my %fn = functions($text);
  my (%carrier, %field);    # "name/index" => 1 ; field name => 1
  $field{result} = 1;
  for (my $changed = 1 ; $changed ;) {
    $changed = 0;
    for my $name (keys %fn) {
      my ($params, $body) = @{ $fn{$name} };
      for my $i (0 .. $#$params) {
        my $p = $params->[$i] or next;
        next if $carrier{"$name/$i"};
        my $fields = join '|', map { quotemeta } keys %field;
        my $is = $body =~ /\bresult\s*=\s*\Q$p\E\s*;/ || $body =~ /result="\s*,\s*\Q$p\E\b/
          || $body =~ /(?:\.|->)(?:$fields)\s*=\s*\Q$p\E\s*;/;
        unless ($is) {
          for my $c (grep { /^(\w+)\/(\d+)$/ } keys %carrier) {
            my ($g, $j) = split m{/}, $c;
            $is ||= grep { ($_->[$j] // '') eq $p } calls($body, $g);
          }
        }
        if ($is) { $carrier{"$name/$i"} = 1; $changed = 1 }
      }
    }
    # a field handed to a carrier carries the result too
    for my $c (keys %carrier) {
      my ($g, $j) = split m{/}, $c;
      for my $args (calls($text, $g)) {
        my ($f) = ($args->[$j] // '') =~ /(?:\.|->)(\w+)$/ or next;
        next if $field{$f}++;
        $changed = 1;
      }
    }
  }
  for my $c (keys %carrier) {
    my ($g, $j) = split m{/}, $c;
    $add->(words_in($_->[$j] // '')) for calls($text, $g);
  }
  # words stored in a field that carries the result (v->close = ... ;)
  my $fields = join '|', map { quotemeta } keys %field;
  $add->(words_in($1)) while $text =~ /(?:\.|->)(?:$fields)\s*=(?!=)([^;]*);/g;
  return (\@src, [sort keys %w]);
}

for my $prog (@progs) {
  my ($src, $words) = program_words($prog);
  ok($src && @$src, "$prog: its sources, from the Makefile: " . join ' ', @{ $src || [] }) or next;
  my %logs = map { $_ => 1 } @$words;
  my $knows = $report{$prog} || {};
  my @unknown = grep { !exists $knows->{$_} } @$words;
  my @never = grep { !$logs{$_} } sort keys %$knows;
  ok(!@unknown, "$prog: every result word it can log is in report/logline.c ("
    . scalar(@$words) . ' words)') or diag "$prog logs, the report does not know: @unknown";
  ok(!@never, "$prog: every word report/logline.c knows for it is one it can log")
    or diag "report/logline.c knows, $prog never logs: @never";
}

done_testing;
