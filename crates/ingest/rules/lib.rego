# Helpers shared by the built-in rules.
package demarc.lib

import rego.v1

tf(t) := [r | some r in input.resources; r.format == "terraform"; r.type == t]

cfn(t) := [r | some r in input.resources; r.format == "cloudformation"; r.type == t]

arm(t) := [r | some r in input.resources; r.format == "arm"; lower(r.type) == t]

cai(t) := [r | some r in input.resources; r.format == "cai"; r.type == t]

custodian(t) := [r | some r in input.resources; r.format == "custodian"; r.type == t]

open_cidr(c) if c == "0.0.0.0/0"

open_cidr(c) if c == "::/0"

open_cidr(c) if c == "*"

open_cidr(c) if c == "Internet"

open_cidr(c) if c == "Any"

mgmt_port(p) if p == 22

mgmt_port(p) if p == 3389

# A from..to range (either bound may be -1 or missing: all ports) covering a management port.
covers(from, to, p) if {
	mgmt_port(p)
	from <= p
	p <= to
}

covers(from, _, p) if {
	mgmt_port(p)
	from == -1
}

# "22", "20-30", "*" as Azure and Google write port ranges.
port_str_covers(s, p) if {
	mgmt_port(p)
	s == "*"
}

port_str_covers(s, p) if {
	mgmt_port(p)
	to_number(s) == p
}

port_str_covers(s, p) if {
	mgmt_port(p)
	parts := split(s, "-")
	count(parts) == 2
	to_number(parts[0]) <= p
	p <= to_number(parts[1])
}

ports := [22, 3389]
