package demarc.rules.management_ports

import data.demarc.lib
import rego.v1

metadata := {
	"id": "DMP007",
	"title": "Management port (SSH 22 / RDP 3389) open to the internet",
	"control": "security-groups",
	"severity": "high",
}

open_rule(rule) if {
	some c in array.concat(object.get(rule, "cidr_blocks", []), object.get(rule, "ipv6_cidr_blocks", []))
	lib.open_cidr(c)
}

deny contains {"resource": r.id, "message": sprintf("ingress from the internet to port %d", [p])} if {
	some r in lib.tf("aws_security_group")
	some rule in r.config.ingress
	open_rule(rule)
	some p in lib.ports
	lib.covers(rule.from_port, rule.to_port, p)
}

deny contains {"resource": r.id, "message": sprintf("ingress from the internet to port %d", [p])} if {
	some r in lib.tf("aws_security_group_rule")
	r.config.type == "ingress"
	open_rule(r.config)
	some p in lib.ports
	lib.covers(r.config.from_port, r.config.to_port, p)
}

deny contains {"resource": r.id, "message": sprintf("ingress from the internet to port %d", [p])} if {
	some r in lib.tf("aws_vpc_security_group_ingress_rule")
	lib.open_cidr(object.get(r.config, "cidr_ipv4", object.get(r.config, "cidr_ipv6", "")))
	some p in lib.ports
	lib.covers(object.get(r.config, "from_port", -1), object.get(r.config, "to_port", -1), p)
}

azure_open(rule) if {
	lower(rule.direction) == "inbound"
	lower(rule.access) == "allow"
	lib.open_cidr(rule.source_address_prefix)
}

azure_port(rule, p) if lib.port_str_covers(rule.destination_port_range, p)

azure_port(rule, p) if {
	some s in rule.destination_port_ranges
	lib.port_str_covers(s, p)
}

deny contains {"resource": r.id, "message": sprintf("inbound rule allows the internet to port %d", [p])} if {
	some r in lib.tf("azurerm_network_security_rule")
	azure_open(r.config)
	some p in lib.ports
	azure_port(r.config, p)
}

deny contains {"resource": r.id, "message": sprintf("inbound rule allows the internet to port %d", [p])} if {
	some r in lib.tf("azurerm_network_security_group")
	some rule in r.config.security_rule
	azure_open(rule)
	some p in lib.ports
	azure_port(rule, p)
}

deny contains {"resource": r.id, "message": sprintf("firewall allows the internet to port %d", [p])} if {
	some r in lib.tf("google_compute_firewall")
	object.get(r.config, "direction", "INGRESS") == "INGRESS"
	some c in r.config.source_ranges
	lib.open_cidr(c)
	some a in r.config.allow
	some p in lib.ports
	some s in a.ports
	lib.port_str_covers(s, p)
}

deny contains {"resource": r.id, "message": sprintf("ingress from the internet to port %d", [p])} if {
	some r in lib.cfn("AWS::EC2::SecurityGroup")
	some perm in r.config.configuration.ipPermissions
	some range in array.concat(object.get(perm, "ipv4Ranges", []), object.get(perm, "ipRanges", []))
	lib.open_cidr(object.get(range, "cidrIp", range))
	some p in lib.ports
	lib.covers(object.get(perm, "fromPort", -1), object.get(perm, "toPort", -1), p)
}
