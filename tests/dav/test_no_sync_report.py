"""A collection without sync-collection (RFC 6578): Radicale behind a
small proxy of the test's own that refuses the REPORT as a server
without it does (403 with DAV:supported-report) and passes everything
else through unchanged.  The account then syncs by getctag and the
members' ETags (PROPFIND Depth 1): every card byte-equal to the
server's, and a card added, changed or removed on the server reaches
the mount at the next poll."""

import os

from conftest import FilterProxy, card, wait_for
from test_read import check_folder, ls

def test_getctag_and_etags(radicale, dav_mount):
    srv = radicale
    proxy = FilterProxy(srv, refuse_sync_report=True)
    try:
        fs = dav_mount(proxy, "carddav").mount()
        assert proxy.refused, "the proxy refused no sync-collection"
        assert ls(fs.mnt) == ["Friends", "Work people"]
        check_folder(fs, "Friends", srv, srv.friends)
        d = fs.m("Friends")
        srv.put(srv.friends + "ctag1.vcf", card(300), create=True)
        wait_for(lambda: os.path.exists(os.path.join(d, "ctag1.vcf")),
                 what="ctag1.vcf")
        check_folder(fs, "Friends", srv, srv.friends)
        srv.delete(srv.friends + "ctag1.vcf")
        wait_for(lambda: not os.path.exists(os.path.join(d, "ctag1.vcf")),
                 what="ctag1.vcf gone")
        fs.unmount()
    finally:
        proxy.stop()
