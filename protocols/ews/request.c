/*
 * request.c - the envelope of the client's requests.
 *
 * Specs: SOAP 1.1 section 4; [MS-OXWSCDATA] 2.2.3.x (RequestServerVersion,
 * ExchangeVersionType).  Exchange2016 is asked for and nothing newer, so
 * that a newer server answers in the schema this client reads; every
 * element used here exists in it.
 */
#include "ewsc-private.h"

GString *ewsc_req_begin(void)
{
	GString *req = g_string_sized_new(1024);

	g_string_append(req,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<s:Envelope xmlns:s=\"" EWS_NS_SOAP "\""
		" xmlns:m=\"" EWS_NS_M "\" xmlns:t=\"" EWS_NS_T "\">"
		"<s:Header><t:RequestServerVersion Version=\"Exchange2016\"/>"
		"</s:Header><s:Body>");
	return req;
}

void ewsc_req_end(GString *req)
{
	g_string_append(req, "</s:Body></s:Envelope>\n");
}

void ewsc_req_id(GString *req, const char *elem, const char *id)
{
	g_string_append_printf(req, "<%s Id=\"", elem);
	ews_escape(req, id);
	g_string_append(req, "\"/>");
}
