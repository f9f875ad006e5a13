"""Commands run in a mount namespace of their own (unshare --mount, ip
netns exec) without holding other tests' FUSE mounts.

A new mount namespace starts with a copy of every mount there is, FUSE
mounts of tests running meanwhile included; and where mounts do not
propagate (a private /, as in containers), unmounting such a mount in the
first namespace leaves its copy, and with it the FUSE connection: the
daemon of that mount never learns it was unmounted and does not exit until
the other namespace ends.  So the command first detaches, in its own
namespace, every FUSE mount it was given.

  RELEASE_FUSE     shell lines that do it
  wrap(argv)       argv for a command entering a namespace (`unshare ...`,
                   `ip netns exec NS`): the same, with RELEASE_FUSE first;
                   the command keeps its process (exec)
"""

# findmnt -r writes a space in a path as \x20: printf %b turns it back
RELEASE_FUSE = (
    "findmnt -rn -o TARGET,FSTYPE | while read -r t f; do "
    "case $f in fuse|fuse.*) umount -l \"$(printf %b \"$t\")\" "
    "2>/dev/null;; esac; done\n")


def wrap(enter, argv):
    """`enter` (the command that makes or enters the namespace, as a
    list) running `argv` there after RELEASE_FUSE."""
    return list(enter) + ["/bin/sh", "-c", RELEASE_FUSE + 'exec "$@"',
                          "sh"] + list(argv)


def script(enter, text):
    """`enter` running the bash script `text` after RELEASE_FUSE."""
    return list(enter) + ["/bin/bash", "-c", RELEASE_FUSE + text]
