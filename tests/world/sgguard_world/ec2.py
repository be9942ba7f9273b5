"""Security-group rules as the EC2 API returns them, and EC2 calls as CloudTrail records them
(each call returns a `Call`: its CloudTrail requestParameters and responseElements, and the
rules it created or changed, read back from the API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"


@dataclass
class Rule:
    """One security-group rule, as DescribeSecurityGroupRules returns it."""

    id: str
    account: str
    region: str
    group_id: str
    group_name: str
    egress: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    peer: str

    @classmethod
    def from_api(cls, account: str, region: str, group_name: str, r: dict) -> Rule:
        peer = r.get("CidrIpv4") or r.get("CidrIpv6") or r.get("PrefixListId")
        peer = peer or r.get("ReferencedGroupInfo", {}).get("GroupId", "?")
        ports = r.get("FromPort"), r.get("ToPort")
        return cls(
            r["SecurityGroupRuleId"],
            account,
            region,
            r["GroupId"],
            group_name,
            r["IsEgress"],
            r["IpProtocol"],
            *ports,
            peer,
        )

    def ports(self) -> str:
        if self.protocol == "-1" or self.from_port in (None, -1):
            return "all"
        return str(self.from_port) if self.from_port == self.to_port else f"{self.from_port}-{self.to_port}"

    def text(self) -> str:
        """The rule in sgguard's one-line notation: `tcp 22 from 0.0.0.0/0`, `all from ::/0`."""
        protocol = "all" if self.protocol == "-1" else self.protocol
        ports = "" if self.ports() == "all" else f" {self.ports()}"
        direction = "egress " if self.egress else ""
        return f"{direction}{protocol}{ports} {'to' if self.egress else 'from'} {self.peer}"

    def content(self) -> tuple:
        return self.group_id, self.egress, self.protocol, self.from_port, self.to_port, self.peer

    def cloudtrail(self) -> dict:
        """The rule as an item of CloudTrail's `responseElements.securityGroupRuleSet`."""
        peer_key = "prefixListId" if self.peer.startswith("pl-") else "cidrIpv6" if ":" in self.peer else "cidrIpv4"
        return {
            "groupOwnerId": self.account,
            "groupId": self.group_id,
            "securityGroupRuleId": self.id,
            "securityGroupRuleArn": f"arn:aws:ec2:{self.region}:{self.account}:security-group-rule/{self.id}",
            "isEgress": self.egress,
            "ipProtocol": self.protocol,
            "fromPort": -1 if self.from_port is None else self.from_port,
            "toPort": -1 if self.to_port is None else self.to_port,
            peer_key: self.peer,
        }


def read_rules(ec2, account: str, region: str) -> dict[str, Rule]:
    """Every rule of every security group in one account and region, by rule id."""
    names = {}
    for page in ec2.get_paginator("describe_security_groups").paginate():
        names.update({g["GroupId"]: g["GroupName"] for g in page["SecurityGroups"]})
    rules = {}
    for page in ec2.get_paginator("describe_security_group_rules").paginate():
        for r in page["SecurityGroupRules"]:
            rules[r["SecurityGroupRuleId"]] = Rule.from_api(account, region, names.get(r["GroupId"], "?"), r)
    return rules


def permission(protocol: str, port: int | None, *peers: str) -> dict:
    """An EC2 IpPermission: `permission("tcp", 22, "0.0.0.0/0")`, `permission("-1", None, "::/0")`."""
    p: dict = {"IpProtocol": protocol}
    if port is not None:
        p.update(FromPort=port, ToPort=port)
    for peer in peers:
        if peer.startswith("pl-"):
            p.setdefault("PrefixListIds", []).append({"PrefixListId": peer})
        elif ":" in peer:
            p.setdefault("Ipv6Ranges", []).append({"CidrIpv6": peer})
        else:
            p.setdefault("IpRanges", []).append({"CidrIp": peer})
    return p


def cloudtrail_permission(p: dict) -> dict:
    """An IpPermission as CloudTrail records it in `requestParameters` (items lists, camelCase)."""

    def items(key: str, field_in: str, field_out: str) -> dict:
        return {"items": [{field_out: x[field_in]} for x in p[key]]} if p.get(key) else {}

    out = {"ipProtocol": p["IpProtocol"]}
    if "FromPort" in p:
        out.update(fromPort=p["FromPort"], toPort=p["ToPort"])
    out.update(
        groups={},
        ipRanges=items("IpRanges", "CidrIp", "cidrIp"),
        ipv6Ranges=items("Ipv6Ranges", "CidrIpv6", "cidrIpv6"),
        prefixListIds=items("PrefixListIds", "PrefixListId", "prefixListId"),
    )
    return out


@dataclass
class Call:
    """An EC2 call as CloudTrail records it, and the rules it created or changed."""

    name: str
    request: dict
    response: dict
    rules: list[Rule]
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))



def group_rules(ec2, account: str, region: str, group_id: str) -> dict[str, Rule]:
    rules = read_rules(ec2, account, region)
    return {i: r for i, r in rules.items() if r.group_id == group_id}


def authorize(ec2, account: str, region: str, group_id: str, permissions: list[dict]) -> Call:
    """AuthorizeSecurityGroupIngress into the group. The rules the call created are read back:
    moto's own response lists only the last permission's."""
    old = group_rules(ec2, account, region, group_id)
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
    created = [r for i, r in group_rules(ec2, account, region, group_id).items() if i not in old]
    request = {"groupId": group_id, "ipPermissions": {"items": [cloudtrail_permission(p) for p in permissions]}}
    call = Call("AuthorizeSecurityGroupIngress", request, {}, created)
    rule_set = {"items": [r.cloudtrail() for r in created]}
    call.response = {"requestId": call.request_id, "_return": True, "securityGroupRuleSet": rule_set}
    return call


def edit(ec2, account: str, region: str, group_id: str, old_text: str, new_cidr: str) -> tuple[Call, Rule]:
    """ModifySecurityGroupRules: the group's rule `old_text` gets another peer. Returns the call
    and the rule as it was."""
    rules = group_rules(ec2, account, region, group_id)
    (rule,) = [r for r in rules.values() if r.text() == old_text]
    spec = {"IpProtocol": rule.protocol, "FromPort": rule.from_port, "ToPort": rule.to_port, "CidrIpv4": new_cidr}
    update = {"SecurityGroupRuleId": rule.id, "SecurityGroupRule": spec}
    ec2.modify_security_group_rules(GroupId=group_id, SecurityGroupRules=[update])
    edited = group_rules(ec2, account, region, group_id)[rule.id]
    request = {"GroupId": group_id, "SecurityGroupRule": {**update, "tag": 1}}
    call = Call("ModifySecurityGroupRules", {"ModifySecurityGroupRulesRequest": request}, {}, [edited])
    response = {"xmlns": EC2_XMLNS, "requestId": call.request_id, "return": True}
    call.response = {"ModifySecurityGroupRulesResponse": response}
    return call, rule


def grow_prefix_list(ec2, list_id: str, cidr: str) -> Call:
    """ModifyManagedPrefixList: one more entry in the list."""
    version = ec2.describe_managed_prefix_lists(PrefixListIds=[list_id])["PrefixLists"][0]["Version"]
    entry = {"Cidr": cidr, "Description": "contractor access"}
    changed = ec2.modify_managed_prefix_list(PrefixListId=list_id, CurrentVersion=version, AddEntries=[entry])
    # As the console's records have it: `cidr` beside `Description`, and `tag` a string.
    added = {"cidr": cidr, "Description": entry["Description"], "tag": "1"}
    request = {"PrefixListId": list_id, "CurrentVersion": version, "AddEntry": added}
    call = Call("ModifyManagedPrefixList", {"ModifyManagedPrefixListRequest": request}, {}, [])
    prefix_list = {k[0].lower() + k[1:]: v for k, v in changed["PrefixList"].items() if not isinstance(v, list)}
    response = {"xmlns": EC2_XMLNS, "requestId": call.request_id, "prefixList": prefix_list}
    call.response = {"ModifyManagedPrefixListResponse": response}
    return call


def rules_everywhere(org, regions) -> dict[str, Rule]:
    """Every rule in every account of the organization (hub included) and region."""
    found = {}
    for account in org.names:
        for region in regions:
            found.update(read_rules(org.ec2(account, region), account, region))
    return found
