#!/usr/bin/perl
# The Debian package (debian/, "make deb"): built with dpkg-buildpackage
# in a copy of the source tree (never here: dh_auto_clean runs make
# clean), checked by lintian (no E: or W: line) and dpkg-deb (the
# programs, man pages, conffiles, units and service directories, nothing
# in /usr/local, nothing enabled or started by the maintainer scripts),
# its systemd units by systemd-analyze verify, then installed with
# "dpkg --root" into a throwaway root, its maintainer scripts run there
# (--force-script-chrootless: they honour DPKG_ROOT). The INSTALLED SMTP
# chain is started from that root unchanged, its runit directory
# /etc/sv/mxguard-smtpd under runsv, configured only through the root's
# /etc/mxguard files and MXGUARD_ROOT, on a loopback port, ending in
# exim4 -bs: swaks delivers through it, rcptchecks refuses an unknown
# recipient and a refused sender, rblsmtpd a client in a zone of
# /etc/mxguard/zones, and svlogd keeps the log; LISTENER=tcpserver then
# runs the classic chain from the same settings. A second build with a
# higher version (the same tree, its changelog bumped) installed over
# the first keeps the edited conffiles; "remove" leaves the
# configuration, the stores and the user; "purge" deletes
# /etc/mxguard, /var/lib/mxguard, /var/log/mxguard and the runit
# directory, and locks the user.
#
# Nothing outside temporary directories is touched; everything binds
# to 127.0.0.0/8.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use File::Path qw(make_path);
use File::Copy qw(copy);
use File::Find;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my @need = qw(dpkg-buildpackage dpkg-deb dpkg dpkg-query dpkg-parsechangelog dpkg-architecture lintian
  runsv sv svlogd chpst swaks useradd usermod);
my @missing = grep { my $t = $_; !grep { -x "$_/$t" } split /:/, $ENV{PATH} // '' } @need;
plan skip_all => "not installed: @missing (debhelper, lintian, runit, dpkg-dev, swaks: package/debs)" if @missing;
plan skip_all => 'needs root (dpkg --root sets owners, the chain binds as root and drops to its user)' if $> != 0;
plan skip_all => 'exim4 is not installed (package/debs)' unless -x '/usr/sbin/exim4';

my $started = time;
my $host_had = defined(getpwnam 'mxguard') ? 1 : 0;
my $work = tmpdir();
# the chain runs as Debian-exim (a user exim trusts): it must reach the
# root's files
chmod 0711, $work or die "chmod $work: $!";

# ---------------------------------------------------------------------------
# a copy of the source tree: git's files, or every file but the build's

my @src;
if (-d "$top/.git" && system("git -C '$top' rev-parse --git-dir >/dev/null 2>&1") == 0) {
  @src = grep { -f "$top/$_" } split /\0/, `git -C '$top' ls-files -z -co --exclude-standard`;
} else {
  my %built;
  for my $list ('TARGETS', 'fuzz/TARGETS') {
    open my $fh, '<', "$top/$list" or next;
    $built{$_} = 1 for grep { length && !/^#/ } map { chomp; $_ } <$fh>;
  }
  find({ no_chdir => 1, wanted => sub {
    (my $rel = $File::Find::name) =~ s{^\Q$top\E/?}{};
    if (-d $_) { $File::Find::prune = 1 if $rel =~ m{^(?:\.git|debian/mxguard|debian/\.debhelper)$}; return }
    push @src, $rel unless $built{$rel};
  } }, $top);
}
ok(grep({ $_ eq 'debian/rules' } @src), 'the source list holds debian/rules');
sub copy_tree {
  my ($to) = @_;
  for my $f (@src) {
    (my $d = "$to/$f") =~ s{/[^/]*$}{};
    make_path($d);
    copy("$top/$f", "$to/$f") or die "copy $f: $!";
    chmod((stat "$top/$f")[2] & 07777, "$to/$f");
  }
}
my $srcdir = "$work/src";
copy_tree($srcdir);

my (undef, $version) = run_cmd(argv => ['dpkg-parsechangelog', '-l', "$srcdir/debian/changelog", '-S', 'Version'], timeout => 30);
my (undef, $arch) = run_cmd(argv => ['dpkg-architecture', '-qDEB_HOST_ARCH'], timeout => 30);
chomp($version, $arch);

# dpkg-buildpackage in the copy: the .deb lands in its parent, $work
sub build {
  my (@opts) = @_;
  my $t0 = time;
  my ($rc, $out, $err) = run_cmd(argv => ['sh', '-c', 'cd "$1" && shift && exec dpkg-buildpackage -us -uc -b "$@"', 'sh', $srcdir, @opts],
    env => { DEB_BUILD_OPTIONS => 'parallel=2 noautodbgsym' }, timeout => 600);
  note sprintf 'dpkg-buildpackage %s: %.0f s', "@opts", time - $t0;
  return ($rc, "$out$err");
}
my ($rc, $out) = build();
is($rc, 0, 'dpkg-buildpackage -us -uc -b succeeds in a copy of the tree') or diag substr($out, -4000);
my $deb = "$work/mxguard_${version}_$arch.deb";
ok(-f $deb, "it leaves mxguard_${version}_$arch.deb in the parent directory") or BAIL_OUT('no package');
unlike($out, qr/warning:/, 'the build with Debian\'s flags is warning-free')
  or diag join "\n", grep /warning:/, split /\n/, $out;
like($out, qr/-fstack-protector-strong/, "Debian's flags reach the compiler");

# ---------------------------------------------------------------------------
# lintian

{
  my $t0 = time;
  my ($lrc, $lout, $lerr) = run_cmd(argv => ['lintian', '--tag-display-limit', '0', $deb], timeout => 300);
  note sprintf 'lintian: %.0f s', time - $t0;
  my @bad = grep { /^[EW]: / } split /\n/, $lout;
  ok(!@bad, 'lintian: no error, no warning') or diag join "\n", @bad;
  is($lrc, 0, 'lintian exits 0') or diag "$lout$lerr";
  note "lintian:\n$lout";
}

# ---------------------------------------------------------------------------
# what the package holds

my (undef, $list) = run_cmd(argv => ['dpkg-deb', '-c', $deb], timeout => 30);
my %mode;
for (split /\n/, $list) {
  my @f = split ' ', $_, 6;
  my ($path) = $f[5] =~ m{^\.(/\S*?)/?(?: -> .*)?$} or next;
  $mode{$path} = $f[0];
}
my $makefile = slurp("$top/Makefile") // '';
my %var = map { /^(\w+)\s*=\s*(.*)$/ ? ($1 => [split ' ', $2]) : () } grep { /^(?:PROGRAMS|MAN8|MAN7)\s*=/ } split /\n/, $makefile;
ok(@{ $var{PROGRAMS} || [] } > 10, 'the Makefile names its programs');
for my $p (map { m{([^/]+)$} } @{ $var{PROGRAMS} }) {
  like($mode{"/usr/bin/$p"} // '', qr/^-rwxr-xr-x/, "/usr/bin/$p, executable");
}
for my $m (map { m{([^/]+)$} } @{ $var{MAN8} }, @{ $var{MAN7} }) {
  my ($sec) = $m =~ /\.(\d)$/;
  ok(exists $mode{"/usr/share/man/man$sec/$m.gz"}, "/usr/share/man/man$sec/$m.gz");
}
my @units = map { "mxguard-$_" } qw(smtpd.service pop3d.service relaydb-expire.service relaydb-expire.timer
  greydb-expire.service greydb-expire.timer recipients.service recipients.timer report.service report.timer);
ok(exists $mode{"/lib/systemd/system/$_"}, "the unit $_") for @units;
for my $x ('/etc/sv/mxguard-smtpd/run', '/etc/sv/mxguard-smtpd/log/run', '/usr/libexec/mxguard/smtpd',
  '/usr/libexec/mxguard/pop3d', '/usr/libexec/mxguard/job', '/usr/libexec/mxguard/exim4-smtpd',
  map({ ("/usr/share/mxguard/daemontools/$_/run", "/usr/share/mxguard/daemontools/$_/log/run") }
    qw(mxguard-smtpd mxguard-pop3d smtpd smtpd-screen smtpd-forward smtpd-balanced pop3d))) {
  like($mode{$x} // '', qr/^-rwxr-xr-x/, "$x, executable");
}
ok(exists $mode{'/usr/share/doc/mxguard/README.Debian.gz'} || exists $mode{'/usr/share/doc/mxguard/README.Debian'}, 'README.Debian');
my @local = grep { m{^/usr/local(?:/|$)} } keys %mode;
ok(!@local, 'nothing in /usr/local') or diag "@local";

# the static links' sources, so that a security update of one is known
# to need a rebuild
my (undef, $bu) = run_cmd(argv => ['dpkg-deb', '-f', $deb, 'Built-Using'], timeout => 30);
like($bu // '', qr/\bglibc \(= [^)]+\)/, 'Built-Using names glibc (libc.a in the chain\'s static links)') or diag $bu;
like($bu // '', qr/\b$_ \(= [^)]+\)/, "Built-Using names $_") for qw(skalibs libowfat libidn2 libunistring lmdb);

my $info = "$work/control";
($rc) = run_cmd(argv => ['dpkg-deb', '-e', $deb, $info], timeout => 30);
my @conffiles = sort split /\n/, slurp("$info/conffiles") // '';
is_deeply(\@conffiles, [sort map({ "/etc/mxguard/$_" } qw(mxguard.conf recipients senders zones tcp.smtp)),
  '/etc/sv/mxguard-smtpd/run', '/etc/sv/mxguard-smtpd/log/run'], 'the conffiles: /etc/mxguard and the runit directory');
# nothing enabled or started: debhelper's snippets (re-)enable a unit
# only if it was installed before (debian-installed) and the admin had
# enabled it (was-enabled); deb-systemd-invoke starts (or, on an
# upgrade, restarts) only units the admin enabled or started, never a
# disabled or static one; the install below checks that no link was made
my $postinst = slurp("$info/postinst") // '';
unlike($postinst, qr/systemctl[^\n]*\b(?:start|restart|enable)\b|runit-helper|\/etc\/service/,
  'postinst links nothing into /etc/service and calls no systemctl start or enable');
my @invokes = $postinst =~ /^\s*(deb-systemd-invoke [^\n]*)/mg;
ok(@invokes == 1 && $invokes[0] =~ /^deb-systemd-invoke \$_dh_action /
  && $postinst =~ /_dh_action=restart/, 'postinst: deb-systemd-invoke only, restart on an upgrade (what the admin runs comes back)')
  or diag join "\n", @invokes;
# an upgrade must not leave the MX down: no stop before it (preinst),
# the restart after it (above); a remove stops the units (prerm)
unlike(slurp("$info/preinst") // '', qr/deb-systemd-invoke stop|systemctl[^\n]*\bstop\b/, 'preinst stops nothing before an upgrade');
like(slurp("$info/prerm") // '', qr/"\$1" = remove[^\n]*\n\s*deb-systemd-invoke stop [^\n]*'mxguard-smtpd\.service'/,
  'prerm stops the units on remove');
my @enables = $postinst =~ /^\s*deb-systemd-helper enable /mg;
my @installed = $postinst =~ /^\s*if deb-systemd-helper debian-installed /mg;
ok(@enables == @installed, 'postinst enables a unit only on an upgrade, if it was installed and enabled before')
  or diag "enable lines: " . scalar(@enables) . ", debian-installed: " . scalar(@installed);

# ---------------------------------------------------------------------------
# systemd-analyze verify, in a root of its own: systemd's units (for
# the targets the timers and services name), the package's, and its
# /usr (the commands must exist). --man=no: the pages are not installed
# on this host (dpkg-deb -c above checks them).

my $root = "$work/root";
SKIP: {
  skip 'systemd-analyze is not installed', 2 unless -x '/usr/bin/systemd-analyze';
  my $vroot = "$work/verify";
  make_path("$vroot/lib/systemd", "$vroot/etc", "$vroot/x");
  ($rc, undef, my $err) = run_cmd(argv => ['sh', '-c', 'cp -a /lib/systemd/system "$1/lib/systemd/" && cp /etc/passwd /etc/group "$1/etc/" && dpkg-deb -x "$2" "$1/x" && cp -a "$1/x/lib/systemd/system/." "$1/lib/systemd/system/" && mv "$1/x/usr" "$1/usr"', 'sh', $vroot, $deb], timeout => 60);
  is($rc, 0, 'a root for systemd-analyze') or diag $err;
  my ($vrc, $vout, $verr) = run_cmd(argv => ['systemd-analyze', 'verify', '--man=no', "--root=$vroot",
    map { "$vroot/lib/systemd/system/$_" } @units], timeout => 60);
  ok($vrc == 0 && "$vout$verr" eq '', 'systemd-analyze verify: every unit, silent') or diag "exit $vrc\n$vout$verr";
}

# ---------------------------------------------------------------------------
# dpkg --root: a minimal dpkg database and user database

make_path(map { "$root/$_" } qw(var/lib/dpkg/info var/lib/dpkg/updates var/lib/dpkg/triggers etc));
sub put { my ($f, $text, $mode) = @_; open my $fh, '>', $f or die "$f: $!"; print {$fh} $text; close $fh; chmod $mode // 0644, $f }
put("$root/var/lib/dpkg/$_", '') for qw(status available);
put("$root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
put("$root/etc/group", "root:x:0:\nadm:x:4:\n");
put("$root/etc/shadow", "root:*:19000:0:99999:7:::\n", 0640);
put("$root/etc/gshadow", "root:*::\nadm:*::\n", 0640);
chmod 0755, $root;
my @dpkg = ('dpkg', "--root=$root", '--force-script-chrootless', '--force-depends', '--force-not-root');
sub dpkg { my ($rc, $out, $err) = run_cmd(argv => [@dpkg, @_], timeout => 120); return ($rc, "$out$err") }
sub status {
  my (undef, $s) = run_cmd(argv => ['dpkg-query', "--admindir=$root/var/lib/dpkg", '-W', '-f', '${Version} ${db:Status-Abbrev}', 'mxguard'], timeout => 30);
  $s =~ s/\s+$//;
  return $s;
}

($rc, $out) = dpkg('-i', $deb);
is($rc, 0, 'dpkg --root -i: installed, its maintainer scripts run') or diag $out;
is(status(), "$version ii", 'dpkg --root: installed and configured');
my ($pw) = grep { /^mxguard:/ } split /\n/, slurp("$root/etc/passwd") // '';
like($pw // '', qr{^mxguard:x:(\d+):\d+:[^:]*:/var/lib/mxguard:/usr/sbin/nologin$}, 'postinst made the system user mxguard in the root');
my ($muid) = ($pw // '') =~ /^mxguard:x:(\d+):/;
ok(defined $muid && $muid > 0 && $muid < 1000, 'a system uid, not root');
is(defined(getpwnam 'mxguard') ? 1 : 0, $host_had, "the host's own user database is left alone");
# deb-systemd-helper works in DPKG_ROOT: an enabled unit would be a
# link in the root's /etc/systemd/system
my @links;
find({ no_chdir => 1, wanted => sub { push @links, $_ if -l $_ && readlink($_) =~ /mxguard/ } }, "$root/etc");
ok(!@links, 'installing enabled nothing: no link to a unit or service directory in the root\'s /etc') or diag "@links";
ok(!-e "$root/etc/service", '... no /etc/service');
for my $d (qw(var/lib/mxguard/relaydb var/lib/mxguard/grey var/lib/mxguard/report var/log/mxguard/smtpd)) {
  ok(-d "$root/$d" && defined $muid && (stat "$root/$d")[4] == $muid, "postinst made /$d, owned by mxguard");
}

# ---------------------------------------------------------------------------
# the installed chain: the root's /etc/mxguard, then runsv on the root's
# /etc/sv/mxguard-smtpd with MXGUARD_ROOT

my $ip = loopback_ip();
my $port = free_port($ip);
my $good = loopback_ip();
my $bad = loopback_ip();
sub rev { join '.', reverse split /\./, $_[0] }
my $listing = 'Listed in bl.mxguard.test for a test';
my $dns = start_tinydns(data => join '', map { "$_\n" } '.127.in-addr.arpa::', '.mxguard.test::',
  "=good.mxguard.test:$good", "=bad.mxguard.test:$bad",
  '+' . rev($bad) . '.bl.mxguard.test:127.0.0.2', "'" . rev($bad) . ".bl.mxguard.test:$listing");
my $mta = exim_child();
my ($eximuid, $eximgid) = (getpwnam 'Debian-exim')[2, 3];

my $etc = "$root/etc/mxguard";
sub edit_conf {
  my (%set) = @_;
  my $text = slurp("$etc/mxguard.conf") // die "$etc/mxguard.conf: $!";
  for my $name (sort keys %set) {
    (my $v = $set{$name}) =~ s/'/'\\''/g;
    ok($text =~ s/^\Q$name\E=.*$/$name='$v'/m, "/etc/mxguard/mxguard.conf sets $name");
  }
  put("$etc/mxguard.conf", $text);
}
edit_conf(IP => $ip, PORT => $port, LOCALNAME => 'mx.mxguard.test', SMTPUSER => 'Debian-exim',
  RELAYSTORE => "$root/var/lib/mxguard/relaydb", ZONES => "$etc/zones", DNSCACHEIP => $dns->ip,
  WAIT => 1, SCREENCACHE => "$root/var/lib/mxguard/screen/cache", TLSCERT => "$etc/tls/cert.pem", TLSKEY => "$etc/tls/key.pem",
  RECIPIENTS => "$etc/recipients.cdb", SENDERS => "$etc/senders.cdb", QMAILCONTROL => '',
  SMTPD => "$root/usr/libexec/mxguard/exim4-smtpd -C " . $mta->argv->[2] . ' -odi',
  LOGUSER => 'root', LOGDIR => "$root/var/log/mxguard/smtpd");
put("$etc/zones", (slurp("$etc/zones") // '') . "block bl.mxguard.test=127.0.0.[2..11]*3\n");
put("$etc/recipients", (slurp("$etc/recipients") // '') . "example.org\npostmaster\@example.org\nalice\@example.org\n");
put("$etc/senders", (slurp("$etc/senders") // '') . "blocked\@mxguard.test REJECT refused here (a test)\n");
# the databases, by the installed job the mxguard-recipients timer runs
($rc, my $jout, my $jerr) = run_cmd(argv => ["$root/usr/libexec/mxguard/job", 'recipients'],
  env => { MXGUARD_ROOT => $root }, timeout => 30);
is($rc, 0, 'the installed job "recipients" builds the databases') or diag "$jout$jerr";
ok(-s "$etc/recipients.cdb" && -s "$etc/senders.cdb", '... recipients.cdb and senders.cdb');
my ($cert, $key) = make_cert($work, 'mx.mxguard.test');
copy($cert, "$etc/tls/cert.pem") or die;
copy($key, "$etc/tls/key.pem") or die;
chown $eximuid, $eximgid, "$etc/tls", "$etc/tls/key.pem";
# SMTPUSER is not mxguard: the stores it writes are given to it, as
# README.Debian says
chown $eximuid, $eximgid, "$root/var/lib/mxguard/screen", "$root/var/lib/mxguard/grey";

my $sv = "$root/etc/sv/mxguard-smtpd";
my $runsv = start_cmd(argv => ['/usr/bin/runsv', $sv], env => { MXGUARD_ROOT => $root, PATH => '/usr/sbin:/usr/bin:/sbin:/bin' }, timeout => 120);
my $up = wait_until(20, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, LocalHost => $good, Timeout => 1) ? 1 : 0 },
  "the installed chain listens on $ip port $port");
my $current = "$root/var/log/mxguard/smtpd/current";
SKIP: {
  skip 'the installed chain did not start', 9 unless $up;
  my $message = "From: sender\@other.test\r\nTo: alice\@example.org\r\nSubject: installed\r\n\r\nthrough the package";
  ($rc, $out) = swaks(ip => $ip, port => $port, data => $message, timeout => 30,
    opts => ['--local-interface', $good, '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '15']);
  is($rc, 0, 'swaks delivers through the installed chain') or diag $out;
  like($out, qr/^<-  220-mx\.mxguard\.test\r?\n<-  220 /m, "... smtp-screen's teaser, then the server's greeting") or diag $out;
  like($out, qr/^<-  250-STARTTLS/m, '... STARTTLS offered (smtp-tls with the certificate of /etc/mxguard/tls)') or diag $out;
  my ($file) = $mta->wait_messages(1, 15);
  like(($file && $mta->received($file)) // '', qr/^Received: from good\.mxguard\.test\s+\(\[\Q$good\E\] helo=/,
    "exim's Received line names the client (exim4-smtpd, run as Debian-exim)");
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 30,
    opts => ['--local-interface', $good, '--to', 'nobody@example.org', '--timeout', '15']);
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody\@example\.org>/m, 'an unknown recipient is refused by rcptchecks (recipients.cdb)') or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 30,
    opts => ['--local-interface', $good, '--from', 'blocked@mxguard.test', '--to', 'alice@example.org', '--timeout', '15']);
  like($out, qr/^<\*\* 550 .*refused here \(a test\)/m, 'a sender of /etc/mxguard/senders is refused at MAIL') or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 30,
    opts => ['--local-interface', $bad, '--to', 'alice@example.org', '--timeout', '15']);
  like($out, qr/^<\*\* 451 \Q$listing\E/m, 'a client in a zone of /etc/mxguard/zones is refused by rblsmtpd') or diag $out;
  my $tai = qr/\@[0-9a-f]{24} /;
  my %want = (
    'smtp-screen' => qr/^$tai\Qsmtp-screen: info: pid \E\d+ ip \Q$good\E .*result=pass/m,
    'rcptchecks'  => qr/^${tai}rcptchecks: info: pid \d+ ip \Q$good\E .*nobody\@example\.org.*result=unknown/m,
  );
  wait_until(10, sub { my $l = slurp($current) // ''; !grep { $l !~ $_ } values %want }, 'the log lines');
  my $log = slurp($current) // '';
  like($log, $want{$_}, "svlogd -t keeps the chain's log in /var/log/mxguard/smtpd: $_") for sort keys %want;
}
($rc, undef, my $sverr) = run_cmd(argv => ['/usr/bin/sv', '-w', '15', 'exit', $sv], timeout => 30);
my ($rsrc) = $runsv->finish(20);
is($rsrc, 0, 'runsv ends after sv exit');
ok(wait_until(15, sub { !IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1) }, 'the port closes'),
  'nothing listens any more');

# LISTENER=tcpserver: the classic chain (rblenv, smtp-delay) from the
# same settings
edit_conf(LISTENER => 'tcpserver');
$runsv = start_cmd(argv => ['/usr/bin/runsv', $sv], env => { MXGUARD_ROOT => $root, PATH => '/usr/sbin:/usr/bin:/sbin:/bin' }, timeout => 120);
my $up2 = wait_until(20, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, LocalHost => $good, Timeout => 1) ? 1 : 0 },
  "LISTENER=tcpserver: the chain listens again");
SKIP: {
  skip 'the tcpserver chain did not start', 4 unless $up2;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 30,
    opts => ['--local-interface', $good, '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '15']);
  is($rc, 0, 'LISTENER=tcpserver: swaks delivers') or diag $out;
  $mta->wait_messages(2, 15);
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 30,
    opts => ['--local-interface', $bad, '--to', 'alice@example.org', '--timeout', '15']);
  like($out, qr/^<\*\* 451 \Q$listing\E/m, '... a listed client is refused (rblenv, rblsmtpd)') or diag $out;
  my $tai = qr/\@[0-9a-f]{24} /;
  my $want = qr/^${tai}smtp-delay: info: pid \d+ ip \Q$good\E class=named .*result=pass/m;
  wait_until(10, sub { (slurp($current) // '') =~ $want }, 'the smtp-delay line');
  like(slurp($current) // '', $want, "... smtp-delay's line in the log: tcpserver's chain");
}
run_cmd(argv => ['/usr/bin/sv', '-w', '15', 'exit', $sv], timeout => 30);
($rsrc) = $runsv->finish(20);
is($rsrc, 0, 'runsv ends after sv exit');
diag "log:\n" . (slurp($current) // '(none)') unless $up;
ok(-s "$root/var/lib/mxguard/screen/cache", "smtp-screen saved its cache (SCREENCACHE) at SIGTERM, as SMTPUSER");

# the daily report's job over the log directory (REPORTFROM), once
# mxguard-report has -H
SKIP: {
  my ($hrc) = run_cmd(argv => ["$root/usr/bin/mxguard-report", '-H', '/dev/null'], timeout => 30);
  skip 'mxguard-report has no -H yet', 2 if $hrc == 100;
  edit_conf(REPORTFROM => "$root/var/log/mxguard/smtpd", REPORTDIR => "$root/var/lib/mxguard/report");
  my ($jrc, $jo, $je) = run_cmd(argv => ["$root/usr/libexec/mxguard/job", 'report'], env => { MXGUARD_ROOT => $root }, timeout => 60);
  is($jrc, 0, 'the installed job "report" runs mxguard-report -H over the log') or diag "$jo$je";
  my @pages = glob "$root/var/lib/mxguard/report/*.html";
  ok(@pages == 1 && (slurp($pages[0]) // '') =~ /<html/i && (slurp($pages[0]) // '') =~ /rcptchecks/,
    '... one HTML page in REPORTDIR, with the chain\'s decisions') or diag "@pages";
}

# ---------------------------------------------------------------------------
# upgrade: the same tree, its changelog one version up, built again
# without the pre-clean (the objects of the first build are reused)

my $newversion = "$version+t1";
{
  my $cl = slurp("$srcdir/debian/changelog") // die;
  my ($date) = $cl =~ /^ -- .*?>  (.*)$/m;
  put("$srcdir/debian/changelog", "mxguard ($newversion) unstable; urgency=medium\n\n  * A test build.\n\n"
    . " -- mxguard maintainers <maintainers\@users.noreply.example>  $date\n\n$cl");
}
($rc, $out) = build('-nc');
is($rc, 0, "a second build, version $newversion") or diag substr($out, -3000);
my $deb2 = "$work/mxguard_${newversion}_$arch.deb";
my $edited = slurp("$etc/mxguard.conf");
($rc, $out) = dpkg('-i', $deb2);
is($rc, 0, 'dpkg --root -i of the newer build over the first') or diag $out;
is(status(), "$newversion ii", '... installed and configured');
is(slurp("$etc/mxguard.conf"), $edited, '... the edited mxguard.conf is kept');
like(slurp("$etc/zones") // '', qr/^block bl\.mxguard\.test/m, '... and the edited zones');
ok(!-e "$etc/mxguard.conf.dpkg-new" && !-e "$etc/mxguard.conf.dpkg-dist", '... with no .dpkg-new or .dpkg-dist beside it');

# ---------------------------------------------------------------------------
# remove, then purge

($rc, $out) = dpkg('-r', 'mxguard');
is($rc, 0, 'dpkg --root -r') or diag $out;
ok(!-e "$root/usr/bin/relaydb" && !-e "$root/lib/systemd/system/mxguard-smtpd.service", '... the programs and units are gone');
ok(-f "$etc/mxguard.conf" && -f "$etc/recipients.cdb" && -f "$sv/run", '... the configuration stays');
ok(-d "$root/var/lib/mxguard/relaydb" && -d "$root/var/log/mxguard/smtpd", '... the stores and logs stay');
like(slurp("$root/etc/passwd") // '', qr/^mxguard:/m, '... the user stays');
($rc, $out) = dpkg('-P', 'mxguard');
is($rc, 0, 'dpkg --root -P') or diag $out;
is(status(), '', '... the package is unknown to dpkg');
ok(!-e $etc, '... /etc/mxguard is gone');
ok(!-e "$root/var/lib/mxguard" && !-e "$root/var/log/mxguard", '... /var/lib/mxguard and /var/log/mxguard are gone');
ok(!-e $sv, '... /etc/sv/mxguard-smtpd is gone (runsv\'s supervise directories too)');
like(slurp("$root/etc/shadow") // '', qr/^mxguard:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:1:/m, '... the user mxguard is kept, locked (expired)');
($rc, $out) = dpkg('-i', $deb2);
unlike(slurp("$root/etc/shadow") // '', qr/^mxguard:(?:[^:]*:){6}1:/m, 'installed again: the user is unlocked');

note sprintf 'runtime: %.0f s', time - $started;
done_testing;
