"""Sign-in against the bank's directory (LDAP / Active Directory) with ldap3."""
