/* mx_linger: the last thing a program that spoke SMTP itself does. */
#ifndef MX_LINGER_H
#define MX_LINGER_H

/* Closing a socket with unread input makes the kernel reset the
   connection and drop the replies not yet delivered. So: end our side
   of fd wfd, then read and discard what the client still sends on rfd,
   until it closes or for ms milliseconds at most. */
extern void mx_linger (int rfd, int wfd, unsigned int ms) ;

#endif
