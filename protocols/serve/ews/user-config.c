/*
 * user-config.c - GetUserConfiguration: the configuration objects of a
 * mailbox, of which this server keeps one, OWA.UserOptions, holding the
 * user's time zone.
 *
 * Specs: [MS-OXWSUSRCFG] 3.1.4.2 (GetUserConfiguration,
 * UserConfigurationName, UserConfigurationProperties), 2.2.4.x
 * (UserConfigurationType, UserConfigurationDictionaryType);
 * [MS-OXWSCDATA] (ErrorItemNotFound).
 *
 * The time zone is "UTC" (a Windows time zone id): the store keeps times
 * in UTC and has no user preferences.  DavMail's CalDAV gateway reads it
 * to build the VTIMEZONE of the events it writes, and fails every event
 * it cannot get one for.  Any other configuration is answered as
 * Exchange answers one a mailbox never saved: ErrorItemNotFound.
 */
#include <string.h>

#include "ewsd-private.h"

#define USER_OPTIONS "OWA.UserOptions"
#define TIME_ZONE "UTC"

int ewsd_op_get_user_configuration(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *name = ews_child(op, EWS_NS_M, "UserConfigurationName");
	g_autofree char *n = name ? ews_attr(name, "Name") : NULL;

	g_string_append(call->out, "<m:GetUserConfigurationResponse>"
			"<m:ResponseMessages>");
	if (!n || strcmp(n, USER_OPTIONS) != 0) {
		ewsd_error_message(call->out, "GetUserConfiguration",
				   "ErrorItemNotFound", "The specified object "
				   "was not found in the store.");
	} else {
		g_autofree char *iid = ewsd_item_id("", USER_OPTIONS);

		g_string_append_printf(call->out,
			"<m:GetUserConfigurationResponseMessage "
			"ResponseClass=\"Success\"><m:ResponseCode>NoError"
			"</m:ResponseCode><m:UserConfiguration>"
			"<t:UserConfigurationName Name=\"" USER_OPTIONS "\">"
			"<t:DistinguishedFolderId Id=\"root\"/>"
			"</t:UserConfigurationName>"
			"<t:ItemId Id=\"%s\" ChangeKey=\"AQAAAA==\"/>"
			"<t:Dictionary><t:DictionaryEntry><t:DictionaryKey>"
			"<t:Type>String</t:Type><t:Value>timezone</t:Value>"
			"</t:DictionaryKey><t:DictionaryValue><t:Type>String"
			"</t:Type><t:Value>" TIME_ZONE "</t:Value>"
			"</t:DictionaryValue></t:DictionaryEntry>"
			"</t:Dictionary></m:UserConfiguration>"
			"</m:GetUserConfigurationResponseMessage>", iid);
	}
	g_string_append(call->out, "</m:ResponseMessages>"
			"</m:GetUserConfigurationResponse>");
	return 0;
}
