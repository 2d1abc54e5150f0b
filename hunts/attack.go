package hunts

import (
	"slices"
	"strings"
)

// tacticOrder is ATT&CK Enterprise's tactic order (the kill chain), in the short names hunt files use.
var tacticOrder = []string{"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
	"privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement", "collection",
	"command-and-control", "exfiltration", "impact"}

type attackTechnique struct {
	name    string
	tactics []string // in tacticOrder
}

// attackTechniques are the ATT&CK Enterprise (v16) techniques that AWS hunts map to, with the tactics
// ATT&CK files them under: a hunt file lists tactics and techniques separately, so this table is what
// puts each technique under its own tactics in `lakehunt hunt coverage`. A technique missing here is
// shown under the tactics of the hunts that claim it; TestCoverageMatrix requires the library's to be here.
var attackTechniques = map[string]attackTechnique{
	"T1020": {"Automated Exfiltration", []string{"exfiltration"}},
	"T1021": {"Remote Services", []string{"lateral-movement"}},
	"T1030": {"Data Transfer Size Limits", []string{"exfiltration"}},
	"T1040": {"Network Sniffing", []string{"credential-access", "discovery"}},
	"T1041": {"Exfiltration Over C2 Channel", []string{"exfiltration"}},
	"T1046": {"Network Service Discovery", []string{"discovery"}},
	"T1048": {"Exfiltration Over Alternative Protocol", []string{"exfiltration"}},
	"T1059": {"Command and Scripting Interpreter", []string{"execution"}},
	"T1069": {"Permission Groups Discovery", []string{"discovery"}},
	"T1070": {"Indicator Removal", []string{"defense-evasion"}},
	"T1071": {"Application Layer Protocol", []string{"command-and-control"}},
	"T1074": {"Data Staged", []string{"collection"}},
	"T1078": {"Valid Accounts", []string{"initial-access", "persistence", "privilege-escalation", "defense-evasion"}},
	"T1082": {"System Information Discovery", []string{"discovery"}},
	"T1087": {"Account Discovery", []string{"discovery"}},
	"T1090": {"Proxy", []string{"command-and-control"}},
	"T1098": {"Account Manipulation", []string{"persistence", "privilege-escalation"}},
	"T1102": {"Web Service", []string{"command-and-control"}},
	"T1105": {"Ingress Tool Transfer", []string{"command-and-control"}},
	"T1110": {"Brute Force", []string{"credential-access"}},
	"T1119": {"Automated Collection", []string{"collection"}},
	"T1133": {"External Remote Services", []string{"initial-access", "persistence"}},
	"T1136": {"Create Account", []string{"persistence"}},
	"T1190": {"Exploit Public-Facing Application", []string{"initial-access"}},
	"T1199": {"Trusted Relationship", []string{"initial-access"}},
	"T1201": {"Password Policy Discovery", []string{"discovery"}},
	"T1204": {"User Execution", []string{"execution"}},
	"T1213": {"Data from Information Repositories", []string{"collection"}},
	"T1484": {"Domain or Tenant Policy Modification", []string{"privilege-escalation", "defense-evasion"}},
	"T1485": {"Data Destruction", []string{"impact"}},
	"T1486": {"Data Encrypted for Impact", []string{"impact"}},
	"T1489": {"Service Stop", []string{"impact"}},
	"T1490": {"Inhibit System Recovery", []string{"impact"}},
	"T1496": {"Resource Hijacking", []string{"impact"}},
	"T1498": {"Network Denial of Service", []string{"impact"}},
	"T1525": {"Implant Internal Image", []string{"persistence"}},
	"T1526": {"Cloud Service Discovery", []string{"discovery"}},
	"T1528": {"Steal Application Access Token", []string{"credential-access"}},
	"T1530": {"Data from Cloud Storage", []string{"collection"}},
	"T1531": {"Account Access Removal", []string{"impact"}},
	"T1535": {"Unused/Unsupported Cloud Regions", []string{"defense-evasion"}},
	"T1537": {"Transfer Data to Cloud Account", []string{"exfiltration"}},
	"T1538": {"Cloud Service Dashboard", []string{"discovery"}},
	"T1546": {"Event Triggered Execution", []string{"persistence", "privilege-escalation"}},
	"T1548": {"Abuse Elevation Control Mechanism", []string{"privilege-escalation", "defense-evasion"}},
	"T1550": {"Use Alternate Authentication Material", []string{"defense-evasion", "lateral-movement"}},
	"T1552": {"Unsecured Credentials", []string{"credential-access"}},
	"T1555": {"Credentials from Password Stores", []string{"credential-access"}},
	"T1556": {"Modify Authentication Process", []string{"persistence", "defense-evasion", "credential-access"}},
	"T1562": {"Impair Defenses", []string{"defense-evasion"}},
	"T1564": {"Hide Artifacts", []string{"defense-evasion"}},
	"T1566": {"Phishing", []string{"initial-access"}},
	"T1567": {"Exfiltration Over Web Service", []string{"exfiltration"}},
	"T1568": {"Dynamic Resolution", []string{"command-and-control"}},
	"T1572": {"Protocol Tunneling", []string{"command-and-control"}},
	"T1578": {"Modify Cloud Compute Infrastructure", []string{"defense-evasion"}},
	"T1580": {"Cloud Infrastructure Discovery", []string{"discovery"}},
	"T1583": {"Acquire Infrastructure", []string{"resource-development"}},
	"T1586": {"Compromise Accounts", []string{"resource-development"}},
	"T1595": {"Active Scanning", []string{"reconnaissance"}},
	"T1606": {"Forge Web Credentials", []string{"credential-access"}},
	"T1619": {"Cloud Storage Object Discovery", []string{"discovery"}},
	"T1621": {"Multi-Factor Authentication Request Generation", []string{"credential-access"}},
	"T1648": {"Serverless Execution", []string{"execution"}},
	"T1651": {"Cloud Administration Command", []string{"execution"}},
	"T1654": {"Log Enumeration", []string{"discovery"}},
	"T1657": {"Financial Theft", []string{"impact"}},
	"T1666": {"Modify Cloud Resource Hierarchy", []string{"defense-evasion"}},
}

// attackSubTechniques names the sub-techniques AWS hunts map to; their tactics are the parent's.
var attackSubTechniques = map[string]string{
	"T1021.004": "SSH",
	"T1021.007": "Cloud Services",
	"T1021.008": "Direct Cloud VM Connections",
	"T1059.009": "Cloud API",
	"T1069.003": "Cloud Groups",
	"T1071.001": "Web Protocols",
	"T1071.004": "DNS",
	"T1078.001": "Default Accounts",
	"T1078.004": "Cloud Accounts",
	"T1087.004": "Cloud Account",
	"T1098.001": "Additional Cloud Credentials",
	"T1098.003": "Additional Cloud Roles",
	"T1098.004": "SSH Authorized Keys",
	"T1110.001": "Password Guessing",
	"T1110.003": "Password Spraying",
	"T1110.004": "Credential Stuffing",
	"T1136.003": "Cloud Account",
	"T1484.002": "Trust Modification",
	"T1496.001": "Compute Hijacking",
	"T1496.004": "Cloud Service Hijacking",
	"T1548.005": "Temporary Elevated Cloud Access",
	"T1550.001": "Application Access Token",
	"T1552.001": "Credentials In Files",
	"T1552.005": "Cloud Instance Metadata API",
	"T1555.006": "Cloud Secrets Management Stores",
	"T1556.006": "Multi-Factor Authentication",
	"T1562.001": "Disable or Modify Tools",
	"T1562.007": "Disable or Modify Cloud Firewall",
	"T1562.008": "Disable or Modify Cloud Logs",
	"T1567.002": "Exfiltration to Cloud Storage",
	"T1578.001": "Create Snapshot",
	"T1578.002": "Create Cloud Instance",
	"T1578.003": "Delete Cloud Instance",
	"T1578.004": "Revert Cloud Instance",
	"T1578.005": "Modify Cloud Compute Configurations",
	"T1586.003": "Cloud Accounts",
}

// lookupTechnique returns a technique's name ("Impair Defenses: Disable or Modify Cloud Logs") and
// tactics; ok is false when the technique (or a sub-technique's name) is not in the tables above.
func lookupTechnique(id string) (name string, tactics []string, ok bool) {
	parent, sub, isSub := strings.Cut(id, ".")
	t, found := attackTechniques[parent]
	if !found {
		return "", nil, false
	}
	if !isSub {
		return t.name, t.tactics, true
	}
	subName, found := attackSubTechniques[parent+"."+sub]
	if !found {
		return t.name, t.tactics, false
	}
	return t.name + ": " + subName, t.tactics, true
}

// tacticRank orders tactics along the kill chain; unknown names sort last.
func tacticRank(t string) int {
	if i := slices.Index(tacticOrder, t); i >= 0 {
		return i
	}
	return len(tacticOrder)
}
