"""A scripted EWS server for the client's tests: HTTP on 127.0.0.1 that
answers with responses written here from the published schema
([MS-OXWSSYNC], [MS-OXWSCORE], [MS-OXWSFOLD], [MS-OXWSCDATA]) for what only
a real Exchange does: ErrorServerBusy with BackOffMilliseconds,
SyncFolderItems in pages, ErrorInvalidSyncStateData, a 2019 server's
version header, NTLM, and hostile answers.

It holds one mailbox of mail folders in memory.  A test changes it
(add()), and scripts misbehaviour with `hostile[op] = kind` (kinds: see
_hostile), for the next N requests of op only with `hostile_left[op] = N`,
or `busy[op] = [ms, ...]` (the next requests of op answered
ErrorServerBusy).  Every request is kept in .requests as (op, body).
With `folder_page = N` SyncFolderHierarchy answers N folders a page
(IncludesLastFolderInRange false until the last), as Exchange does with
a big hierarchy; `delay[op] = seconds` holds each answer of op back.

With `recording=` (a file like tests/data/ews-traces/gromox-mount.json:
`exchanges`, each a request and the response a real server gave, bodies
base64) it plays that server back instead of its own mailbox: a request
gets the recorded answer of the same operation asking about the same
FolderIds, ItemIds, SyncState and UnresolvedEntry; a GetItem is answered
item by item from every recorded GetItem answer (its ids may come in
other batches than they were recorded in).  What the recording never
answered gets, as a server that kept no changes would: a SyncFolderItems
with a state it handed out, "nothing changed"; a ResolveNames,
ErrorNameResolutionNoResults; an ItemId, ErrorItemNotFound; anything
else a Fault.  Each is noted in .unanswered as (op, body).

  FakeEWS(user, password, page=None, version="2016", ntlm=False,
          token_check=None, recording=None)
  .url, .add(folder, data, read=False), .add_event(props, mime=None),
  .add_contact(props), .change(iid, props), .stop()
"""

import base64
import http.server
import json
import re
import socketserver
import threading
import time

NS = ('xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
      'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
      'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"')
VERSIONS = {
    # MajorVersion, MinorVersion, MajorBuildNumber, Version
    "2016": (15, 1, 2507, "V2017_07_11"),
    "2019": (15, 2, 1118, "V2017_07_11"),
}
FOLDERS = (("inbox", "Inbox", "IPF.Note"),
           ("sentitems", "Sent Items", "IPF.Note"),
           ("deleteditems", "Deleted Items", "IPF.Note"),
           ("drafts", "Drafts", "IPF.Note"),
           ("junkemail", "Junk Email", "IPF.Note"),
           ("contacts", "Contacts", "IPF.Contact"),
           ("calendar", "Calendar", "IPF.Appointment"),
           ("tasks", "Tasks", "IPF.Task"))
HUGE = 100 * 1024 * 1024


def _fid(name):
    return base64.b64encode(("AAMkFolder/" + name).encode()).decode()


def folder_id(name):
    """The FolderId the server gives the folder `name` by default."""
    return _fid(name)


class FakeEWS:
    def __init__(self, user, password, page=None, version="2016",
                 ntlm=False, token_check=None, recording=None):
        self.user, self.password = user, password
        # OAuth 2 bearer tokens (RFC 6750) instead of Basic: check(user,
        # token) -> bool, e.g. OAuthServer.check_token (introspection)
        self.token_check = token_check
        self.page, self.version, self.ntlm = page, version, ntlm
        self.folders = {name: [] for name, _, _ in FOLDERS}
        self.extra = []             # add_folder(): (name, display, id, parent)
        self.props = {}             # add_event(), add_contact(): ItemId ->
        self.kind = {}              #   its properties and element name
        self.updated = []           # change(): ItemIds to tell as Update
        self.fault_text = "it broke"        # of hostile "fault"
        self.error_text = "failed"          # of hostile "item-error"
        self.serial = 0
        self.hostile = {}
        self.hostile_left = {}
        self.busy = {}
        self.invalid_state = 0      # next N stated syncs: invalid
        self.folder_page = None     # folders per SyncFolderHierarchy page
        self.delay = {}             # op -> seconds each answer waits
        self.requests = []
        self.times = []
        self.unanswered = []
        self.replay = Replay(recording) if recording else None
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                fake._post(self)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/EWS/Exchange.asmx" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, folder, data, read=False):
        """A message in a folder ("inbox"...); returns its ItemId, which
        like Exchange's is long base64 with '/' and '+' in it."""
        with self.lock:
            self.serial += 1
            raw = b"\xfb\xff" + b"AAMkItem/%06d" % self.serial + b"\xfe" * 90
            iid = base64.b64encode(raw).decode()
            self.folders[folder].append((iid, data, read))
            return iid

    def add_event(self, props, mime=None):
        """A calendar item: `props` the XML of its properties (t:Subject,
        t:Start...), `mime` the bytes of its MimeContent or None for an
        item without any.  GetItem answers with every property, whatever
        the request asked.  Returns its ItemId."""
        iid = self.add("calendar", mime)
        with self.lock:
            self.props[iid] = props
            self.kind[iid] = "CalendarItem"
        return iid

    def add_contact(self, props):
        """A contact of the contacts folder made of `props` (t:DisplayName,
        t:EmailAddresses...).  Returns its ItemId."""
        iid = self.add("contacts", None)
        with self.lock:
            self.props[iid] = props
            self.kind[iid] = "Contact"
        return iid

    def change(self, iid, props):
        """The item `iid` now has `props`: the next SyncFolderItems from a
        state tells it as an Update."""
        with self.lock:
            self.props[iid] = props
            self.updated.append(iid)

    def add_folder(self, name, display, parent=None, fid=None):
        """A mail folder more, `name` for add(), shown as `display`: its
        FolderId is fid (folder_id(name) when None) and its ParentFolderId
        parent (msgfolderroot's when None)."""
        with self.lock:
            self.folders[name] = []
            self.extra.append((name, display, fid or _fid(name),
                               parent or _fid("msgfolderroot")))

    # ---- HTTP ----

    def _auth_ok(self, h):
        auth = h.headers.get("Authorization", "")
        if self.ntlm:
            return self._ntlm(h, auth)
        if self.token_check is not None:
            if auth.startswith("Bearer ") and self.token_check(
                    self.user, auth[len("Bearer "):]):
                return True
            self._send(h, 401, b"", {"WWW-Authenticate":
                                     'Bearer error="invalid_token"'})
            return False
        want = base64.b64encode(("%s:%s" % (self.user, self.password))
                                .encode()).decode()
        if auth == "Basic " + want:
            return True
        self._send(h, 401, b"", {"WWW-Authenticate": 'Basic realm="EWS"'})
        return False

    def _ntlm(self, h, auth):
        # the handshake of [MS-NLMP] as far as a client can see it: a
        # challenge for its NEGOTIATE, then its AUTHENTICATE names the user
        if not auth.startswith("NTLM "):
            self._send(h, 401, b"", {"WWW-Authenticate": "NTLM"})
            return False
        msg = base64.b64decode(auth[5:])
        kind = int.from_bytes(msg[8:12], "little")
        if kind == 1:
            challenge = (b"NTLMSSP\0" + (2).to_bytes(4, "little") +
                         (0).to_bytes(8, "little") +
                         (0x00088207).to_bytes(4, "little") +
                         b"\x01\x23\x45\x67\x89\xab\xcd\xef" + b"\0" * 8 +
                         (0).to_bytes(8, "little"))
            self._send(h, 401, b"", {"WWW-Authenticate": "NTLM " +
                                     base64.b64encode(challenge).decode()})
            return False
        if kind == 3:
            ln = int.from_bytes(msg[36:38], "little")
            off = int.from_bytes(msg[40:44], "little")
            user = msg[off:off + ln]
            for enc in ("utf-16-le", "latin-1"):
                if user.decode(enc, "replace") == self.user:
                    return True
        self._send(h, 401, b"", {"WWW-Authenticate": "NTLM"})
        return False

    def _send(self, h, status, body, headers=None):
        h.send_response(status)
        h.send_header("Content-Type", "text/xml; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if body:
            h.wfile.write(body)

    def _post(self, h):
        n = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(n).decode("utf-8", "replace")
        if not self._auth_ok(h):
            return
        m = re.search(r"<s:Body><m:(\w+)", body)
        op = m.group(1) if m else "?"
        with self.lock:
            self.requests.append((op, body))
            self.times.append((op, time.monotonic()))
            waits = self.busy.get(op)
            wait = waits.pop(0) if waits else None
            kind = self.hostile.get(op)
            if kind and op in self.hostile_left:
                self.hostile_left[op] -= 1
                if self.hostile_left[op] <= 0:
                    del self.hostile_left[op]
                    del self.hostile[op]
        if self.delay.get(op):
            time.sleep(self.delay[op])
        if wait is not None:
            self._send(h, 500, self._busy(wait))
            return
        if kind and self._hostile(h, kind):
            return
        if self.replay:
            status, answer = self.replay.answer(op, body)
            if status is None:
                with self.lock:
                    self.unanswered.append((op, body))
                status, answer = 500, self._fault("ErrorInvalidOperation",
                                                  "not in the recording")
            elif status == "guess":
                with self.lock:
                    self.unanswered.append((op, body))
                status = 200
            self._send(h, status, answer)
            return
        out = getattr(self, "_op_" + op, None)
        if not out:
            self._send(h, 500, self._fault("ErrorInvalidOperation",
                                           "not supported"))
            return
        self._send(h, 200, self._envelope(out(body)))

    def _hostile(self, h, kind):
        if kind == "doctype":
            body = (b'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY '
                    b'x SYSTEM "file:///etc/passwd">]><s:Envelope ' +
                    NS.encode() + b'><s:Body>&x;</s:Body></s:Envelope>')
        elif kind == "huge":
            h.send_response(200)
            h.send_header("Content-Type", "text/xml")
            h.send_header("Content-Length", str(HUGE))
            h.end_headers()
            chunk = b"<a>" + b"A" * (1024 * 1024 - 3)
            try:
                for _ in range(HUGE // len(chunk)):
                    h.wfile.write(chunk)
            except OSError:
                pass
            h.close_connection = True
            return True
        elif kind == "truncated":
            full = self._envelope('<m:SyncFolderItemsResponse>')
            body = full[:len(full) // 2]
        elif kind == "garbage":
            body = bytes(range(256)) * 64
        elif kind == "fault":
            body = self._fault("ErrorInternalServerError", self.fault_text)
            self._send(h, 500, body)
            return True
        elif kind == "item-error":
            return False        # answered by the operation
        elif kind in ("401", "500", "503"):
            self._send(h, int(kind), b"<html>no</html>",
                       {"WWW-Authenticate": 'Basic realm="EWS"'}
                       if kind == "401" else None)
            return True
        elif kind == "silent":
            time.sleep(30)
            h.close_connection = True
            return True
        else:
            raise ValueError(kind)
        self._send(h, 200, body)
        return True

    # ---- documents ----

    def _envelope(self, inner):
        major, minor, build, ver = VERSIONS[self.version]
        return ('<?xml version="1.0" encoding="utf-8"?><s:Envelope %s>'
                '<s:Header><h:ServerVersionInfo MajorVersion="%d" '
                'MinorVersion="%d" MajorBuildNumber="%d" MinorBuildNumber='
                '"3" Version="%s" xmlns:h="http://schemas.microsoft.com/'
                'exchange/services/2006/types"/></s:Header><s:Body>%s'
                '</s:Body></s:Envelope>' % (NS, major, minor, build, ver,
                                            inner)).encode()

    def _fault(self, code, text):
        return ('<?xml version="1.0" encoding="utf-8"?><s:Envelope %s>'
                '<s:Body><s:Fault><faultcode>a:%s</faultcode><faultstring>'
                '%s</faultstring><detail><e:ResponseCode xmlns:e="http://'
                'schemas.microsoft.com/exchange/services/2006/errors">%s'
                '</e:ResponseCode></detail></s:Fault></s:Body></s:Envelope>'
                % (NS, code, text, code)).encode()

    def _busy(self, ms):
        # as Exchange throttles: a Fault whose detail carries the wait
        return ('<?xml version="1.0" encoding="utf-8"?><s:Envelope %s>'
                '<s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode>'
                '<faultstring>The server cannot service this request right '
                'now. Try again later.</faultstring><detail><e:ResponseCode '
                'xmlns:e="http://schemas.microsoft.com/exchange/services/'
                '2006/errors">ErrorServerBusy</e:ResponseCode><e:Message '
                'xmlns:e="http://schemas.microsoft.com/exchange/services/'
                '2006/errors">busy</e:Message><t:MessageXml><t:Value Name='
                '"BackOffMilliseconds">%d</t:Value></t:MessageXml></detail>'
                '</s:Fault></s:Body></s:Envelope>' % (NS, ms)).encode()

    def _ok(self, op, inner=""):
        return ('<m:%sResponseMessage ResponseClass="Success"><m:Response'
                'Code>NoError</m:ResponseCode>%s</m:%sResponseMessage>'
                % (op, inner, op))

    def _error(self, op, code, text="failed"):
        return ('<m:%sResponseMessage ResponseClass="Error"><m:MessageText>'
                '%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode>'
                '<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>'
                '</m:%sResponseMessage>' % (op, text, code, op))

    def _op_GetFolder(self, body):
        out = []
        for ref in re.findall(r'<t:(?:Distinguished)?FolderId Id="([^"]+)"',
                              body):
            name = ref if ref in self.folders or ref == "msgfolderroot" \
                else None
            if name is None:
                out.append(self._error("GetFolder", "ErrorFolderNotFound"))
                continue
            out.append(self._ok("GetFolder", '<m:Folders><t:Folder>'
                                '<t:FolderId Id="%s" ChangeKey="AQ=="/>'
                                '</t:Folder></m:Folders>' % _fid(name)))
        return ('<m:GetFolderResponse><m:ResponseMessages>%s'
                '</m:ResponseMessages></m:GetFolderResponse>' % "".join(out))

    def _op_SyncFolderHierarchy(self, body):
        creates = []
        for name, display, klass in FOLDERS:
            el = {"IPF.Contact": "ContactsFolder",
                  "IPF.Appointment": "CalendarFolder",
                  "IPF.Task": "TasksFolder"}.get(klass, "Folder")
            creates.append('<t:Create><t:%s><t:FolderId Id="%s" ChangeKey='
                           '"AQ=="/><t:ParentFolderId Id="%s"/><t:FolderClass>'
                           '%s</t:FolderClass><t:DisplayName>%s</t:DisplayName>'
                           '</t:%s></t:Create>' % (el, _fid(name),
                                                   _fid("msgfolderroot"),
                                                   klass, display, el))
        for _, display, fid, parent in self.extra:
            creates.append('<t:Create><t:Folder><t:FolderId Id="%s" ChangeKey='
                           '"AQ=="/><t:ParentFolderId Id="%s"/><t:FolderClass>'
                           'IPF.Note</t:FolderClass><t:DisplayName>%s'
                           '</t:DisplayName></t:Folder></t:Create>'
                           % (fid, parent, display))
        # a state is "H" and the number of folders already told
        state = re.search(r"<m:SyncState>H-(\d+)</m:SyncState>", body)
        start = int(state.group(1)) if state else 0
        end = len(creates)
        if self.folder_page:
            end = min(end, start + self.folder_page)
        return ('<m:SyncFolderHierarchyResponse><m:ResponseMessages>%s'
                '</m:ResponseMessages></m:SyncFolderHierarchyResponse>'
                % self._ok("SyncFolderHierarchy",
                           '<m:SyncState>H-%d</m:SyncState>'
                           '<m:IncludesLastFolderInRange>%s'
                           '</m:IncludesLastFolderInRange><m:Changes>%s'
                           '</m:Changes>' % (end, "true" if end >= len(creates)
                                             else "false",
                                             "".join(creates[start:end]))))

    def _folder_of(self, body):
        m = re.search(r'<m:SyncFolderId><t:FolderId Id="([^"]+)"', body)
        for name in self.folders:
            if m and _fid(name) == m.group(1):
                return name
        for name, _, fid, _ in self.extra:
            if m and fid == m.group(1):
                return name
        return None

    def _op_SyncFolderItems(self, body):
        op = "SyncFolderItems"
        wrap = ('<m:SyncFolderItemsResponse><m:ResponseMessages>%s'
                '</m:ResponseMessages></m:SyncFolderItemsResponse>')
        name = self._folder_of(body)
        if name is None:
            return wrap % self._error(op, "ErrorFolderNotFound")
        state = re.search(r"<m:SyncState>([^<]*)</m:SyncState>", body)
        if state and self.invalid_state:
            self.invalid_state -= 1
            return wrap % self._error(op, "ErrorInvalidSyncStateData",
                                      "Synchronization state data is "
                                      "corrupt or otherwise invalid.")
        # a state is the number of items already told
        start = int(state.group(1).split("-")[1]) if state else 0
        most = int(re.search(r"<m:MaxChangesReturned>(\d+)", body).group(1))
        if self.page:
            most = min(most, self.page)
        with self.lock:
            items = list(self.folders[name])
            ids = [iid for iid, _, _ in items]
            updates = [i for i in self.updated if i in ids] if state else []
            self.updated = [i for i in self.updated if i not in updates]
        chunk = items[start:start + most]
        creates = "".join('<t:Create><t:Message><t:ItemId Id="%s" ChangeKey='
                          '"CQ=="/></t:Message></t:Create>' % iid
                          for iid, _, _ in chunk)
        creates += "".join('<t:Update><t:Message><t:ItemId Id="%s" ChangeKey='
                           '"CR=="/></t:Message></t:Update>' % iid
                           for iid in updates)
        end = start + len(chunk)
        return wrap % self._ok(op, '<m:SyncState>%s-%d</m:SyncState>'
                               '<m:IncludesLastItemInRange>%s'
                               '</m:IncludesLastItemInRange><m:Changes>%s'
                               '</m:Changes>' % (name, end,
                                                 "true" if end >= len(items)
                                                 else "false", creates))

    def _op_GetItem(self, body):
        op = "GetItem"
        out = []
        mime = "<t:IncludeMimeContent>true" in body
        with self.lock:
            every = {iid: (data, read) for f in self.folders.values()
                     for iid, data, read in f}
        for n, iid in enumerate(re.findall(r'<t:ItemId Id="([^"]+)"', body)):
            if iid not in every or (self.hostile.get("GetItem") ==
                                    "item-error" and n == 0):
                out.append(self._error(op, "ErrorItemNotFound"
                                       if iid not in every
                                       else "ErrorCorruptData",
                                       self.error_text))
                continue
            data, read = every[iid]
            mc = ('<t:MimeContent CharacterSet="UTF-8">%s</t:MimeContent>'
                  % base64.b64encode(data).decode()) if mime and \
                data is not None else ""
            if iid in self.props:
                el = self.kind[iid]
                out.append(self._ok(op, '<m:Items><t:%s>%s<t:ItemId Id='
                                    '"%s" ChangeKey="CQ=="/>%s</t:%s>'
                                    '</m:Items>' % (el, mc, iid,
                                                    self.props[iid], el)))
                continue
            out.append(self._ok(op, '<m:Items><t:Message>%s<t:ItemId Id='
                                '"%s" ChangeKey="CQ=="/><t:DateTimeReceived>'
                                '2024-01-02T03:04:05Z</t:DateTimeReceived>'
                                '<t:Size>%d</t:Size><t:IsRead>%s</t:IsRead>'
                                '</t:Message></m:Items>'
                                % (mc, iid, len(data) + 1234,
                                   "true" if read else "false")))
        return ('<m:GetItemResponse><m:ResponseMessages>%s'
                '</m:ResponseMessages></m:GetItemResponse>' % "".join(out))


# ---- a recorded server played back ----

def _ask(op, body):
    """What a request asks about: its ids, SyncState and entries."""
    ids = tuple(re.findall(r'<t:(?:Distinguished)?(?:Folder|Item)Id Id='
                           r'"([^"]+)"', body))
    state = re.findall(r"<m:SyncState>([^<]*)</m:SyncState>", body)
    entries = tuple(re.findall(r"<m:UnresolvedEntry>([^<]*)<", body))
    return (op, ids, state[0] if state else None, entries)


class Replay:
    def __init__(self, path):
        with open(path) as f:
            rec = json.load(f)
        self.answers = {}       # _ask() -> (status, body)
        self.items = {}         # (ItemId, mime) -> a GetItemResponseMessage
        self.states = {}        # FolderId -> {SyncState handed out}
        self.get_frame = None   # a GetItem answer around its messages
        self.sync_frame = None  # a SyncFolderItems answer, no changes
        for ex in rec["exchanges"]:
            body = base64.b64decode(ex["request"]["body_b64"]).decode()
            answer = base64.b64decode(ex["response"]["body_b64"])
            m = re.search(r"<s:Body><m:(\w+)", body)
            op = m.group(1) if m else "?"
            key = _ask(op, body)
            self.answers.setdefault(key, (ex["response"]["status"], answer))
            text = answer.decode("utf-8", "replace")
            if op == "GetItem":
                self._items(key[1], "IncludeMimeContent>true" in body, text)
            elif op == "SyncFolderItems" and key[1]:
                st = re.search(r"<m:SyncState>([^<]*)</m:SyncState>", text)
                if st:
                    self.states.setdefault(key[1][0], set()).add(st.group(1))
                if "<m:Changes/>" in text and not self.sync_frame:
                    self.sync_frame = text

    def _items(self, ids, mime, text):
        msgs = re.findall(r"<m:GetItemResponseMessage.*?"
                          r"</m:GetItemResponseMessage>", text, re.S)
        if len(msgs) != len(ids):
            return
        for iid, msg in zip(ids, msgs):
            self.items.setdefault((iid, mime), msg)
        if not self.get_frame:
            start = text.index("<m:ResponseMessages>") + 20
            end = text.index("</m:ResponseMessages>")
            self.get_frame = (text[:start], text[end:])

    def answer(self, op, body):
        """(status, bytes); status None when nothing fits, "guess" when
        the answer is made up rather than recorded."""
        key = _ask(op, body)
        if op == "GetItem" and self.get_frame:
            return self._get(key[1], "IncludeMimeContent>true" in body)
        if key in self.answers:
            return self.answers[key]
        if op == "SyncFolderItems" and key[2] and self.sync_frame and \
                key[2] in self.states.get(key[1][0] if key[1] else "", ()):
            text = re.sub(r"<m:SyncState>[^<]*</m:SyncState>",
                          "<m:SyncState>%s</m:SyncState>" % key[2],
                          self.sync_frame)
            return "guess", text.encode()
        if op == "ResolveNames":
            return "guess", _envelope_of(
                '<m:ResolveNamesResponse><m:ResponseMessages>'
                '<m:ResolveNamesResponseMessage ResponseClass="Error">'
                '<m:MessageText>No results were found.</m:MessageText>'
                '<m:ResponseCode>ErrorNameResolutionNoResults'
                '</m:ResponseCode></m:ResolveNamesResponseMessage>'
                '</m:ResponseMessages></m:ResolveNamesResponse>')
        return None, b""

    def _get(self, ids, mime):
        out, guessed = [], False
        for iid in ids:
            msg = self.items.get((iid, mime)) or self.items.get(
                (iid, not mime))
            if msg is None:
                guessed = True
                msg = ('<m:GetItemResponseMessage ResponseClass="Error">'
                       '<m:MessageText>not found</m:MessageText>'
                       '<m:ResponseCode>ErrorItemNotFound</m:ResponseCode>'
                       '</m:GetItemResponseMessage>')
            out.append(msg)
        text = self.get_frame[0] + "".join(out) + self.get_frame[1]
        return ("guess" if guessed else 200), text.encode()


def _envelope_of(inner):
    return ('<?xml version="1.0" encoding="utf-8"?><s:Envelope %s>'
            '<s:Body>%s</s:Body></s:Envelope>' % (NS, inner)).encode()
