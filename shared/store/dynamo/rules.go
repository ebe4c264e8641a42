package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orderhub/shared/rules"
)

// Rule sets live in the orders table, one item per saved version under one partition:
//
//	pk      sk                 attributes   what
//	RULES   V#<version, 19 d>  doc          a saved rule set (JSON), never changed once written
//
// One partition is enough: a seller saves rules a few times a day, and a cold start reads the
// newest version with one Query (backwards, Limit 1). Keeping them beside the orders means the
// router and the ops API need no further table, and PITR covers them with the orders.
const (
	rulesPartition = "RULES"
	rulesSKPrefix  = "V#"
)

var _ rules.Store = (*Store)(nil)

func rulesSK(version int64) string { return fmt.Sprintf("%s%019d", rulesSKPrefix, version) }

// CurrentRules returns the newest saved rule set (one strongly consistent Query), or
// rules.ErrNoRuleSet when none was saved.
func (s *Store) CurrentRules(ctx context.Context) (rules.RuleSet, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Orders),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :v)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(rulesPartition), ":v": str(rulesSKPrefix)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return rules.RuleSet{}, unavailable("Query", err)
	}
	if len(out.Items) == 0 {
		return rules.RuleSet{}, rules.ErrNoRuleSet
	}
	var set rules.RuleSet
	if err := json.Unmarshal([]byte(strAttr(out.Items[0], attrDoc)), &set); err != nil {
		return rules.RuleSet{}, unavailable("Query", fmt.Errorf("decode rule set: %w", err))
	}
	return set, nil
}

// SaveRules writes set as a new version with one conditional PutItem: a version that exists
// already is rules.ErrVersionConflict (two editors saving from the same version: one wins).
func (s *Store) SaveRules(ctx context.Context, set rules.RuleSet) error {
	doc, err := json.Marshal(set)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Orders),
		Item: map[string]types.AttributeValue{
			attrPK: str(rulesPartition), attrSK: str(rulesSK(set.Version)), attrDoc: str(string(doc)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return rules.ErrVersionConflict
	}
	if err != nil {
		return unavailable("PutItem", err)
	}
	return nil
}
