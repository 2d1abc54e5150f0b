package iceberg

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakehunt/lakehunt/lake"
)

// GlueTable is what Register did for one table.
type GlueTable struct {
	Table            string `json:"table"`
	Action           string `json:"action"` // created | updated | unchanged
	MetadataLocation string `json:"metadata_location"`
}

// RegisterGlue creates or updates, in the Glue database (created if missing), one Iceberg table per lake
// table whose metadata_location is the table's current metadata file: the way Athena, EMR and Glue jobs
// find an existing Iceberg table. An update passes the Glue version it read (optimistic locking) and the
// previous metadata location, as Iceberg's Glue catalog does.
func RegisterGlue(ctx context.Context, l *lake.Lake, client *glue.Client, database string) ([]GlueTable, error) {
	if l.IsLocal() {
		return nil, errors.New("the lake is a local directory: Glue and Athena read Iceberg tables in S3 only")
	}
	ptr, _, err := ReadPointer(ctx, l)
	if err != nil {
		return nil, err
	}
	if ptr == nil {
		return nil, fmt.Errorf("the lake at %s has no Iceberg metadata yet: run 'lakehunt catalog rebuild --lake %s' first", l.URL(), l.URL())
	}
	if _, err := client.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(database)}); err != nil {
		var nf *gluetypes.EntityNotFoundException
		if !errors.As(err, &nf) {
			return nil, fmt.Errorf("Glue database %s: %w", database, err)
		}
		_, err := client.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{
			Name: aws.String(database), Description: aws.String("lakehunt lake " + l.URL()),
		}})
		if err != nil {
			return nil, fmt.Errorf("create Glue database %s: %w", database, err)
		}
	}
	var out []GlueTable
	for _, name := range sortedKeys(ptr.Tables) {
		t, err := lake.LookupTable(name)
		if err != nil {
			continue
		}
		meta := l.ObjectURL(ptr.Tables[name])
		input, err := glueTableInput(t, l.ObjectURL(name), meta)
		if err != nil {
			return out, err
		}
		got, err := client.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(database), Name: aws.String(name)})
		var nf *gluetypes.EntityNotFoundException
		switch {
		case errors.As(err, &nf):
			if _, err := client.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(database), TableInput: input}); err != nil {
				return out, fmt.Errorf("create Glue table %s.%s: %w", database, name, err)
			}
			out = append(out, GlueTable{Table: name, Action: "created", MetadataLocation: meta})
		case err != nil:
			return out, fmt.Errorf("Glue table %s.%s: %w", database, name, err)
		default:
			prev := got.Table.Parameters["metadata_location"]
			if prev == meta {
				out = append(out, GlueTable{Table: name, Action: "unchanged", MetadataLocation: meta})
				continue
			}
			if prev != "" {
				input.Parameters["previous_metadata_location"] = prev
			}
			_, err := client.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String(database), TableInput: input, VersionId: got.Table.VersionId})
			if err != nil {
				return out, fmt.Errorf("update Glue table %s.%s: %w", database, name, err)
			}
			out = append(out, GlueTable{Table: name, Action: "updated", MetadataLocation: meta})
		}
	}
	return out, nil
}

func glueTableInput(t *lake.Table, location, metadataLocation string) (*gluetypes.TableInput, error) {
	sc, err := Schema(t)
	if err != nil {
		return nil, err
	}
	cols := make([]gluetypes.Column, 0, len(sc.Fields()))
	for _, f := range sc.Fields() {
		typ, err := HiveType(f.Type.String())
		if err != nil {
			return nil, err
		}
		c := gluetypes.Column{Name: aws.String(f.Name), Type: aws.String(typ), Parameters: map[string]string{
			"iceberg.field.id":       strconv.Itoa(f.ID),
			"iceberg.field.optional": strconv.FormatBool(!f.Required),
			"iceberg.field.current":  "true",
		}}
		if f.Doc != "" {
			c.Comment = aws.String(f.Doc)
		}
		cols = append(cols, c)
	}
	return &gluetypes.TableInput{
		Name:        aws.String(t.Name),
		Description: aws.String(t.Doc),
		TableType:   aws.String("EXTERNAL_TABLE"),
		Parameters: map[string]string{
			"table_type":        "ICEBERG",
			"metadata_location": metadataLocation,
		},
		StorageDescriptor: &gluetypes.StorageDescriptor{Location: aws.String(location), Columns: cols},
	}, nil
}

// HiveType is the Glue/Athena column type of an Iceberg primitive type.
func HiveType(iceType string) (string, error) {
	switch iceType {
	case "string":
		return "string", nil
	case "boolean":
		return "boolean", nil
	case "int":
		return "int", nil
	case "long":
		return "bigint", nil
	case "double":
		return "double", nil
	case "timestamp":
		return "timestamp", nil
	}
	return "", fmt.Errorf("no Glue type for Iceberg type %s", iceType)
}
