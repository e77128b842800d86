/* store-dir: the relay store as a directory of one file per client.
 *
 * Entry: a file named by the canonical IP text, holding "TIMESTAMP\n".
 * Write: a private ".tmp.PID.SEQ" file renamed over the entry; rename is
 * atomic, so a reader sees the old entry or the new one, never a mix, and
 * concurrent writers of distinct IPs never touch each other's files.
 * Delete-if-older: the entry is renamed to a private ".del.PID.SEQ" name
 * and read again; if a writer had replaced it with a fresh one in the
 * meantime it is linked back (a newer entry already there wins). No locks.
 * Names starting with "." are ours and never entries; temp files left by
 * a crash are removed by expire after an hour.
 * An entry is a regular file. Anything else under an entry's name (FIFO,
 * socket, device, symlink, directory) is read without waiting and is
 * corrupt, like a file that holds no timestamp: get fails, a walk (list,
 * dump) skips it, expire removes it (but a directory, which it leaves).
 */
#include "store.h"
#include "store-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/types.h>

#include "mx_ip.h"

#define STALE_TEMP_SECONDS 3600
/* ".tmp." or ".del.", a pid, ".", a sequence number, NUL */
#define TEMP_NAME_MAX (5 + PID_FMT + 1 + ULONG_FMT + 1)

static int fail_sys (store *s, char const *verb, char const *what)
{
  return store_fail(s, "unable to ", verb, what, ": ", strerror(errno)) ;
}

int sdir_open (store *s)
{
  s->dirfd = open(s->conf.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (s->dirfd < 0)
    return store_fail(s, "unable to open directory ", s->conf.dir, ": ", strerror(errno)) ;
  return 1 ;
}

void sdir_close (store *s)
{
  if (s->dirfd >= 0) close(s->dirfd) ;
  s->dirfd = -1 ;
}

/* ".tmp.PID.SEQ" or ".del.PID.SEQ": unique among live processes */
static void temp_name (store *s, char const *kind, char *name)
{
  size_t n = strlen(kind) ;
  memcpy(name, kind, n) ;
  n += pid_fmt(name + n, getpid()) ;
  name[n++] = '.' ;
  n += ulong_fmt(name + n, s->seq++) ;
  name[n] = 0 ;
}

/* read_entry's answers besides 1 (ok) and 0 (no such entry) */
#define ENTRY_ERROR (-1)     /* unreadable: errno set */
#define ENTRY_GARBAGE (-2)   /* a regular file, but not a timestamp */
#define ENTRY_ODD (-3)       /* not a regular file: FIFO, socket, device, symlink */
#define ENTRY_DIR (-4)       /* a directory */

/* Every entry is read here. An entry is a regular file and nothing else:
   open would wait for a writer on a FIFO (and read for data from one
   that never writes), and a device is not ours to read. So the open never
   waits (O_NONBLOCK; O_NOCTTY keeps a terminal from becoming ours),
   follows no symlink (O_NOFOLLOW: ELOOP), and the file opened is checked
   before a byte is read. For a regular file O_NONBLOCK changes nothing. */
static int read_entry (int dirfd, char const *name, uint64_t *ts)
{
  char buf[UINT64_FMT + 2] ;
  struct stat st ;
  ssize_t r ;
  size_t n ;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) ;
  if (fd < 0) return errno == ENOENT ? 0 : errno == ELOOP ? ENTRY_ODD : ENTRY_ERROR ;
  if (fstat(fd, &st) < 0) { int e = errno ; close(fd) ; errno = e ; return ENTRY_ERROR ; }
  if (!S_ISREG(st.st_mode)) { close(fd) ; return S_ISDIR(st.st_mode) ? ENTRY_DIR : ENTRY_ODD ; }
  r = read(fd, buf, sizeof buf) ;
  if (r < 0) { int e = errno ; close(fd) ; errno = e ; return ENTRY_ERROR ; }
  close(fd) ;
  n = (size_t)r ;
  if (n && buf[n-1] == '\n') n-- ;
  if (!n || n >= sizeof buf - 1 || uint64_scan(buf, ts) != n || *ts > STORE_TS_MAX)
    return ENTRY_GARBAGE ;
  return 1 ;
}

int sdir_put (store *s, char const *ip, uint64_t ts)
{
  char tmp[TEMP_NAME_MAX] ;
  char buf[UINT64_FMT + 1] ;
  size_t len = uint64_fmt(buf, ts) ;
  int fd ;
  buf[len++] = '\n' ;
  temp_name(s, ".tmp.", tmp) ;
  fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) ;
  if (fd < 0) return fail_sys(s, "create a file in ", s->conf.dir) ;
  if (allwrite(fd, buf, len) < len)
  {
    int e = errno ;
    close(fd) ;
    unlinkat(s->dirfd, tmp, 0) ;
    errno = e ;
    return fail_sys(s, "write to ", s->conf.dir) ;
  }
  if (close(fd) < 0 || renameat(s->dirfd, tmp, s->dirfd, ip) < 0)
  {
    int e = errno ;
    unlinkat(s->dirfd, tmp, 0) ;
    errno = e ;
    return fail_sys(s, "record an entry in ", s->conf.dir) ;
  }
  return 1 ;
}

int sdir_get (store *s, char const *ip, uint64_t *ts)
{
  int r = read_entry(s->dirfd, ip, ts) ;
  if (r >= 0) return r ;
  if (r == ENTRY_GARBAGE) store_fail(s, "entry ", ip, " in ", s->conf.dir, " is not a timestamp") ;
  else if (r == ENTRY_ODD || r == ENTRY_DIR) store_fail(s, "entry ", ip, " in ", s->conf.dir, " is not a regular file") ;
  else store_fail(s, "unable to read entry ", ip, " in ", s->conf.dir, ": ", strerror(errno)) ;
  return -1 ;
}

int sdir_delete (store *s, char const *ip)
{
  if (unlinkat(s->dirfd, ip, 0) == 0) return 1 ;
  if (errno == ENOENT) return 0 ;
  fail_sys(s, "delete an entry in ", s->conf.dir) ;
  return -1 ;
}

/* Takes ip away only if it is older than cutoff (see the top comment).
   A corrupt entry (unreadable, not a timestamp, not a regular file)
   counts as old: nothing could ever use it. A directory is left alone:
   unlink cannot remove it, and renamed to a temp name it would only
   hide. */
static int take_if_older (store *s, char const *ip, uint64_t cutoff)
{
  char grab[TEMP_NAME_MAX] ;
  uint64_t ts ;
  int r = read_entry(s->dirfd, ip, &ts) ;
  if (!r || r == ENTRY_DIR || (r > 0 && ts >= cutoff)) return 0 ;
  temp_name(s, ".del.", grab) ;
  if (renameat(s->dirfd, ip, s->dirfd, grab) < 0)
  {
    if (errno == ENOENT) return 0 ;
    fail_sys(s, "expire an entry in ", s->conf.dir) ;
    return -1 ;
  }
  r = read_entry(s->dirfd, grab, &ts) ;
  if (r == ENTRY_DIR || (r > 0 && ts >= cutoff))
  {
    /* a writer renewed it between our read and our rename: give it back,
       unless a newer one has been written since (EEXIST); a directory
       put there meanwhile goes back too (rename: no links to those) */
    if (linkat(s->dirfd, grab, s->dirfd, ip, 0) < 0 && errno != EEXIST)
      renameat(s->dirfd, grab, s->dirfd, ip) ;
    unlinkat(s->dirfd, grab, 0) ;
    return 0 ;
  }
  unlinkat(s->dirfd, grab, 0) ;
  return 1 ;
}

int sdir_delete_older (store *s, char const *ip, uint64_t cutoff)
{
  return take_if_older(s, ip, cutoff) ;
}

/* An entry name is the canonical text of an IP; anything else in the
   directory is not ours to touch (or is one of our dot files). */
static int is_entry_name (char const *name)
{
  char canon[MX_IP_FMT] ;
  ip46 ip ;
  return name[0] != '.' && mx_ip_canon(name, &ip, canon) && !strcmp(canon, name) ;
}

static void remove_if_stale_temp (store *s, char const *name, time_t now)
{
  struct stat st ;
  if (strncmp(name, ".tmp.", 5) && strncmp(name, ".del.", 5)) return ;
  if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
   && st.st_mtime + STALE_TEMP_SECONDS < now)
    unlinkat(s->dirfd, name, 0) ;
}

/* Walks the directory: fn gets every readable entry; with expire set,
   entries older than cutoff are removed instead. Returns the number
   removed (expire) or 1 (walk), 0 if fn stopped the walk, -1 on error. */
static long long walk (store *s, int expire, uint64_t cutoff, store_each_fn *fn, void *data)
{
  long long removed = 0 ;
  time_t now = time(0) ;
  struct dirent *d ;
  DIR *dir ;
  int fd = dup(s->dirfd) ;
  if (fd < 0 || !(dir = fdopendir(fd)))
  {
    if (fd >= 0) close(fd) ;
    fail_sys(s, "read directory ", s->conf.dir) ;
    return -1 ;
  }
  rewinddir(dir) ;
  for (;;)
  {
    uint64_t ts ;
    int r ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d) break ;
    if (d->d_name[0] == '.')
    {
      if (expire) remove_if_stale_temp(s, d->d_name, now) ;
      continue ;
    }
    if (!is_entry_name(d->d_name)) continue ;
    if (expire)
    {
      r = take_if_older(s, d->d_name, cutoff) ;
      if (r < 0) { closedir(dir) ; return -1 ; }
      removed += r ;
      continue ;
    }
    r = read_entry(s->dirfd, d->d_name, &ts) ;
    if (r <= 0) continue ;  /* gone meanwhile, or corrupt: not an entry */
    if (!fn(d->d_name, ts, data)) { closedir(dir) ; return 0 ; }
  }
  if (errno)
  {
    int e = errno ;
    closedir(dir) ;
    errno = e ;
    fail_sys(s, "read directory ", s->conf.dir) ;
    return -1 ;
  }
  closedir(dir) ;
  return expire ? removed : 1 ;
}

long long sdir_expire (store *s, uint64_t cutoff)
{
  return walk(s, 1, cutoff, 0, 0) ;
}

int sdir_each (store *s, store_each_fn *fn, void *data)
{
  return (int)walk(s, 0, 0, fn, data) ;
}
