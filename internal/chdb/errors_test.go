package chdb

import "testing"

func TestEngineError(t *testing.T) {
	tests := []struct {
		name, msg string
		code      int
		code2     string
	}{
		{"plain", "Code: 60. DB::Exception: Unknown table expression identifier 'x'. (UNKNOWN_TABLE)", 60, "UNKNOWN_TABLE"},
		{"version suffix", "Code: 62. DB::Exception: Syntax error. (SYNTAX_ERROR) (version 26.7.2.1)\n", 62, "SYNTAX_ERROR"},
		{"multi-line", "Code: 33. DB::Exception: a\nb: While executing X. (CANNOT_READ_ALL_DATA)", 33, "CANNOT_READ_ALL_DATA"},
		{"no code", "something odd", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engineError(tt.msg)
			if e.Code != tt.code || e.Name != tt.code2 {
				t.Errorf("engineError() = %d %q, want %d %q", e.Code, e.Name, tt.code, tt.code2)
			}
			if e.Error() == "" || e.Error()[len(e.Error())-1] == '\n' {
				t.Errorf("Error() = %q, want trimmed engine text", e.Error())
			}
		})
	}
}
